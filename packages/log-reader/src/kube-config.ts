// Entry of '@platform/log-reader/kube-config': finding a kubeconfig as kubectl does, for both
// CLIs. Its own entry, so that only those who ask the Kubernetes API load its client.
export { KubeConfigError, loadKubeTarget, type KubeTarget, type KubeTargetOptions } from './live/kube-config.js';
