// Entry of '@platform/log-reader/kube-config': finding a kubeconfig as kubectl does, and the
// words of a Kubernetes API error, for both CLIs. Its own entry, so that only those who ask
// the Kubernetes API load its client.
export { KubeConfigError, loadKubeTarget, type KubeTarget, type KubeTargetOptions } from './live/kube-config.js';
export { statusReason } from './live/kube-status.js';
