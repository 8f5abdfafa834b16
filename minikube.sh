#!/usr/bin/env bash
# The compactor's CronJob on a local minikube cluster, against the LocalStack S3 that the
# minikube overlay (k8s/overlays/minikube) runs next to it. In order:
#
#   ./minikube.sh start [ARGS]   start a minikube cluster (containerd; profile $MINIKUBE_PROFILE; ARGS go to `minikube start`)
#   ./minikube.sh load-images    build the project image (Dockerfile) inside that cluster
#   ./minikube.sh apply          the LocalStack auth token as a Secret, then kubectl apply -k k8s/overlays/minikube
#   ./minikube.sh run-once       a Job from the CronJob now; follows its logs; exits 1 if it failed
#   ./minikube.sh logs [JOB]     the logs of JOB (default: the newest job)
#   ./minikube.sh clean          delete the jobs and everything apply created
#   ./minikube.sh stop           stop the cluster (`minikube delete -p PROFILE` removes it)
#
# Needs minikube and kubectl on PATH. LocalStack's image needs an auth token: apply reads it
# from LOCALSTACK_AUTH_TOKEN in your environment and stores it in the cluster only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# The names the manifests in k8s/ use (base + overlays/minikube).
NAMESPACE="job-logs"
CRONJOB="compactor"
LOCALSTACK="localstack"
LOCALSTACK_SECRET="localstack-auth"
IMAGE="job-logs-s3/compactor:dev"
OVERLAY="k8s/overlays/minikube"
# A profile of its own, so that `stop` and `clean` never touch your other clusters.
PROFILE="${MINIKUBE_PROFILE:-job-logs}"
# How long run-once waits for the job's pod to start, and then for the job to end.
POD_START_TIMEOUT="${POD_START_TIMEOUT:-300}"
JOB_TIMEOUT="${JOB_TIMEOUT:-900}"

usage() {
  cat <<EOF
usage: ./minikube.sh start [MINIKUBE-START-ARGS...] | load-images | apply | run-once | logs [JOB] | clean | stop

  start        start minikube with containerd (profile $PROFILE; set MINIKUBE_PROFILE to change it)
  load-images  build $IMAGE from the Dockerfile inside the cluster (minikube image build)
  apply        store \$LOCALSTACK_AUTH_TOKEN as Secret $LOCALSTACK_SECRET, then kubectl apply -k $OVERLAY
  run-once     create a Job from cronjob/$CRONJOB now ($CRONJOB-manual-<time>), follow its logs
  logs [JOB]   follow the logs of JOB (default: the newest job in namespace $NAMESPACE)
  clean        delete the jobs and everything apply created
  stop         stop the cluster
EOF
}

die() { # exit code, message
  echo "minikube.sh: $2" >&2
  exit "$1"
}
need() { # command, what it is for
  command -v "$1" >/dev/null 2>&1 || die 2 "$1 is not on PATH ($2)"
}
kc() { kubectl --context "$PROFILE" --namespace "$NAMESPACE" "$@"; }

start() {
  need minikube "https://minikube.sigs.k8s.io/docs/start/"
  # containerd writes the CRI log files Fluent Bit's cri parser reads (Docker's runtime
  # writes JSON ones). Your ARGS come last: they win.
  minikube start --profile "$PROFILE" --container-runtime=containerd "$@"
  echo "next: ./minikube.sh load-images && ./minikube.sh apply && ./minikube.sh run-once"
}

load_images() {
  need minikube "https://minikube.sigs.k8s.io/docs/start/"
  # Built by the cluster's own runtime: no registry, no host Docker needed, and the pods
  # find the image without pulling it.
  minikube image build --profile "$PROFILE" --tag "$IMAGE" .
}

apply() {
  need kubectl "https://kubernetes.io/docs/tasks/tools/"
  if [[ -z "${LOCALSTACK_AUTH_TOKEN:-}" ]]; then
    die 2 "LOCALSTACK_AUTH_TOKEN is not set: LocalStack's image needs your auth token (https://app.localstack.cloud); export it and run apply again"
  fi
  kubectl --context "$PROFILE" create namespace "$NAMESPACE" --dry-run=client --output yaml | kubectl --context "$PROFILE" apply --filename -
  # From a file descriptor, so the token never appears in a command line (ps) or in a log.
  kc create secret generic "$LOCALSTACK_SECRET" \
    --from-env-file=<(printf 'LOCALSTACK_AUTH_TOKEN=%s\n' "$LOCALSTACK_AUTH_TOKEN") \
    --dry-run=client --output yaml | kc apply --filename -
  kubectl --context "$PROFILE" apply --kustomize "$OVERLAY"
  kc rollout status "deployment/$LOCALSTACK" --timeout=300s
  echo "next: ./minikube.sh run-once (the CronJob also runs on its own schedule)"
}

# The first condition of the job that is True: Complete, Failed (or empty while it runs).
job_outcome() { # job name
  kc get "job/$1" --output 'jsonpath={range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}'
}

run_once() {
  need kubectl "https://kubernetes.io/docs/tasks/tools/"
  local job phase outcome waited
  job="$CRONJOB-manual-$(date +%s)"
  kc create job --from="cronjob/$CRONJOB" "$job"
  echo "waiting for the pod of job/$job to start (at most ${POD_START_TIMEOUT}s)"
  for ((waited = 0; ; waited++)); do
    phase="$(kc get pods --selector "job-name=$job" --output 'jsonpath={.items[0].status.phase}' 2>/dev/null || true)"
    case "$phase" in
      Running | Succeeded | Failed) break ;;
    esac
    ((waited < POD_START_TIMEOUT)) || die 1 "the pod of job/$job did not start in ${POD_START_TIMEOUT}s; see: kubectl --context $PROFILE -n $NAMESPACE describe job/$job"
    sleep 1
  done
  # Ends when the container does; the Job's condition follows a moment later.
  kc logs --follow "job/$job" || true
  for ((waited = 0; ; waited++)); do
    outcome="$(job_outcome "$job")"
    case "$outcome" in
      *Complete*) echo "job/$job: complete"; return 0 ;;
      *Failed*) die 1 "job/$job failed; see: ./minikube.sh logs $job" ;;
    esac
    ((waited < JOB_TIMEOUT)) || die 1 "job/$job did not end in ${JOB_TIMEOUT}s"
    sleep 1
  done
}

logs() { # [job]
  need kubectl "https://kubernetes.io/docs/tasks/tools/"
  local job="${1:-}"
  if [[ -z "$job" ]]; then
    job="$(kc get jobs --sort-by=.metadata.creationTimestamp --output name | tail -n 1)"
    [[ -n "$job" ]] || die 1 "no job in namespace $NAMESPACE yet: ./minikube.sh run-once"
  fi
  kc logs --follow "job/${job#job.batch/}"
}

clean() {
  need kubectl "https://kubernetes.io/docs/tasks/tools/"
  # Jobs from run-once are not in the manifests: delete -k alone would leave them.
  kc delete jobs --all --ignore-not-found
  kc delete secret "$LOCALSTACK_SECRET" --ignore-not-found
  kubectl --context "$PROFILE" delete --kustomize "$OVERLAY" --ignore-not-found
}

stop() {
  need minikube "https://minikube.sigs.k8s.io/docs/start/"
  minikube stop --profile "$PROFILE"
}

command="${1:-}"
[[ $# -eq 0 ]] || shift
case "$command" in
  start) start "$@" ;;
  load-images) load_images ;;
  apply) apply ;;
  run-once) run_once ;;
  logs) logs "$@" ;;
  clean) clean ;;
  stop) stop ;;
  -h | --help | help) usage ;;
  "")
    usage >&2
    exit 2
    ;;
  *)
    echo "minikube.sh: unknown command '$command'" >&2
    usage >&2
    exit 2
    ;;
esac
