#!/usr/bin/env bash
# The compactor's CronJob on a local minikube cluster, against the LocalStack S3 that the
# minikube overlay (k8s/overlays/minikube) runs next to it. In order:
#
#   ./minikube.sh start [ARGS]   start a minikube cluster (containerd; profile $MINIKUBE_PROFILE; ARGS go to `minikube start`)
#   ./minikube.sh load-images    build the project image (Dockerfile) inside that cluster
#   ./minikube.sh apply          the LocalStack auth token as a Secret, then kubectl apply -k k8s/overlays/minikube
#   ./minikube.sh run-once       a Job from the CronJob now; follows its logs; exits 1 if it failed
#   ./minikube.sh demo           run a job, wait for its uploads, run a pass, read its log from here
#   ./minikube.sh logs [JOB]     the logs of JOB (default: the newest job)
#   ./minikube.sh clean          delete the jobs and everything apply created
#   ./minikube.sh stop           stop the cluster (`minikube delete -p PROFILE` removes it)
#
# Needs minikube and kubectl on PATH (demo: also a built checkout, `make build`, for
# log-reader). LocalStack's image needs an auth token: apply reads it from
# LOCALSTACK_AUTH_TOKEN in your environment and stores it in the cluster only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# The names the manifests in k8s/ use (base + overlays/minikube).
NAMESPACE="job-logs"
COMPACTOR_NAMESPACE="job-logs-compactor"
CRONJOB="compactor"
BUCKET="job-logs"
LOCALSTACK="localstack"
LOCALSTACK_SECRET="localstack-auth"
IMAGE="job-logs-s3/compactor:dev"
OVERLAY="k8s/overlays/minikube"
# demo: the job it runs (JOB_NAME replaced), in a job namespace Fluent Bit uploads, and the
# last line that job writes.
DEMO_JOB="k8s/overlays/minikube/demo-job.yaml"
DEMO_NAMESPACE="default"
DEMO_LABEL="app.kubernetes.io/name=job-logs-demo"
# A profile of its own, so that `stop` and `clean` never touch your other clusters.
PROFILE="${MINIKUBE_PROFILE:-job-logs}"
# How long run-once waits for the job's pod to start, and then for the job to end.
POD_START_TIMEOUT="${POD_START_TIMEOUT:-300}"
JOB_TIMEOUT="${JOB_TIMEOUT:-900}"
# demo: the host port LocalStack is forwarded to, the log-reader it runs (this checkout's,
# after `make build`), how long it waits for the job's uploads, and how often it looks.
DEMO_PORT="${DEMO_PORT:-14566}"
LOG_READER="${LOG_READER:-packages/log-reader/bin/log-reader.js}"
UPLOAD_TIMEOUT="${UPLOAD_TIMEOUT:-600}"
POLL_SECONDS="${POLL_SECONDS:-5}"

usage() {
  cat <<EOF
usage: ./minikube.sh start [MINIKUBE-START-ARGS...] | load-images | apply | run-once | demo | logs [JOB] | clean | stop

  start        start minikube with containerd (profile $PROFILE; set MINIKUBE_PROFILE to change it)
  load-images  build $IMAGE from the Dockerfile inside the cluster (minikube image build)
  apply        store \$LOCALSTACK_AUTH_TOKEN as Secret $LOCALSTACK_SECRET, then kubectl apply -k $OVERLAY
  run-once     create a Job from cronjob/$CRONJOB now ($CRONJOB-manual-<time>), follow its logs
  demo         run a job (pod job-demo-<time> in $DEMO_NAMESPACE), follow it with log-reader -f from here
               (LocalStack forwarded to 127.0.0.1:$DEMO_PORT), wait for its last upload, run-once,
               then log-reader logs and --tail; needs start, load-images, apply and make build first
  logs [JOB]   follow the logs of JOB (default: the newest job in namespace $COMPACTOR_NAMESPACE)
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
# The compactor's namespace (restricted Pod Security), apart from Fluent Bit's and LocalStack's.
kcc() { kubectl --context "$PROFILE" --namespace "$COMPACTOR_NAMESPACE" "$@"; }

start() {
  need minikube "https://minikube.sigs.k8s.io/docs/start/"
  # containerd writes the CRI log files Fluent Bit's cri parser reads (Docker's runtime
  # writes JSON ones). Your ARGS come last: they win.
  minikube start --profile "$PROFILE" --container-runtime=containerd "$@"
  echo "next: ./minikube.sh load-images && ./minikube.sh apply && ./minikube.sh demo"
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
  echo "next: ./minikube.sh demo (a job, read from here) or run-once (the CronJob also runs on its own schedule)"
}

# The first condition of the job that is True: Complete, Failed (or empty while it runs).
job_outcome() { # job name
  kcc get "job/$1" --output 'jsonpath={range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}'
}

run_once() {
  need kubectl "https://kubernetes.io/docs/tasks/tools/"
  local job phase outcome waited
  job="$CRONJOB-manual-$(date +%s)"
  kcc create job --from="cronjob/$CRONJOB" "$job"
  echo "waiting for the pod of job/$job to start (at most ${POD_START_TIMEOUT}s)"
  for ((waited = 0; ; waited++)); do
    phase="$(kcc get pods --selector "job-name=$job" --output 'jsonpath={.items[0].status.phase}' 2>/dev/null || true)"
    case "$phase" in
      Running | Succeeded | Failed) break ;;
    esac
    ((waited < POD_START_TIMEOUT)) || die 1 "the pod of job/$job did not start in ${POD_START_TIMEOUT}s; see: kubectl --context $PROFILE -n $COMPACTOR_NAMESPACE describe job/$job"
    sleep 1
  done
  # Ends when the container does; the Job's condition follows a moment later.
  kcc logs --follow "job/$job" || true
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

# log-reader of this checkout against LocalStack forwarded to the host, with LocalStack's dummy
# keys (the readers' Secret in the overlay holds the same) in its environment, never in argv.
reader() { # logs POD [FLAGS...]
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
    "$LOG_READER" "$@" --bucket "$BUCKET" --endpoint "http://127.0.0.1:$DEMO_PORT"
}

# Polls the bucket (a read of the job's last line) until CHECK accepts that line.
wait_for_archive() { # pod, what, check (a function of pod and last line)
  local pod="$1" what="$2" check="$3" last waited=0
  echo "job $pod: waiting for $what in the bucket (at most ${UPLOAD_TIMEOUT}s; Fluent Bit uploads once a minute)"
  while :; do
    last="$(reader logs "$pod" --tail 1 2>/dev/null || true)"
    "$check" "$pod" "$last" && return 0
    ((waited < UPLOAD_TIMEOUT)) || die 1 "job $pod: $what not in bucket $BUCKET after ${UPLOAD_TIMEOUT}s; see: kubectl --context $PROFILE -n $NAMESPACE logs daemonset/fluent-bit"
    sleep "$POLL_SECONDS"
    waited=$((waited + (POLL_SECONDS > 0 ? POLL_SECONDS : 1)))
  done
}
any_line() { [[ -n "$2" ]]; }
done_line() { [[ "$2" == "$1: done" ]]; }

stop_forward() {
  [[ -z "${FORWARD_PID:-}" ]] || kill "$FORWARD_PID" 2>/dev/null || true
  [[ -z "${FORWARD_LOG:-}" ]] || rm -f "$FORWARD_LOG"
}

# LocalStack's Service on the host, for the readers' S3 outside the cluster. A port-forward
# works with every minikube driver (a NodePort needs `minikube service` or a tunnel on some).
forward_localstack() {
  local waited
  FORWARD_LOG="$(mktemp)"
  trap stop_forward EXIT
  # kubectl itself in the background (not the kc function, whose subshell would outlive a kill).
  kubectl --context "$PROFILE" --namespace "$NAMESPACE" port-forward "service/$LOCALSTACK" "$DEMO_PORT:4566" >"$FORWARD_LOG" 2>&1 &
  FORWARD_PID=$!
  for ((waited = 0; ; waited++)); do
    grep -q '^Forwarding from' "$FORWARD_LOG" && break
    kill -0 "$FORWARD_PID" 2>/dev/null || die 1 "kubectl port-forward to service/$LOCALSTACK failed: $(cat "$FORWARD_LOG")"
    ((waited < 30)) || die 1 "kubectl port-forward to service/$LOCALSTACK did not start in 30s"
    sleep 1
  done
  echo "LocalStack's S3 on http://127.0.0.1:$DEMO_PORT (kubectl port-forward, until the demo ends)"
}

demo() {
  need kubectl "https://kubernetes.io/docs/tasks/tools/"
  [[ -x "$LOG_READER" ]] || die 2 "$LOG_READER is not executable: run \`make build\` first (or set LOG_READER to a log-reader)"
  local pod
  pod="job-demo-$(date +%s)"
  kc rollout status "deployment/$LOCALSTACK" --timeout=60s >/dev/null ||
    die 1 "LocalStack is not running in namespace $NAMESPACE: ./minikube.sh apply first"
  forward_localstack

  # A job as the platform runs one: a pod whose container is named like the pod.
  sed "s/JOB_NAME/$pod/g" "$DEMO_JOB" | kubectl --context "$PROFILE" apply --filename -
  wait_for_archive "$pod" "a first upload" any_line

  echo "=== log-reader logs $pod -f: the archive, then the live log, to the job's end"
  reader logs "$pod" --follow --namespace "$DEMO_NAMESPACE" --context "$PROFILE"

  wait_for_archive "$pod" "its last line ($pod: done)" done_line
  echo "=== a pass of the compactor: the job's raw files become merged files"
  run_once
  echo "=== log-reader logs $pod --tail 5 (from the merged files)"
  reader logs "$pod" --tail 5
  echo "=== log-reader logs $pod: $(reader logs "$pod" | wc -l) lines"
  echo "To read it again: kubectl --context $PROFILE -n $NAMESPACE port-forward service/$LOCALSTACK $DEMO_PORT:4566 &"
  echo "  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 npx log-reader logs $pod --bucket $BUCKET --endpoint http://127.0.0.1:$DEMO_PORT"
}

logs() { # [job]
  need kubectl "https://kubernetes.io/docs/tasks/tools/"
  local job="${1:-}"
  if [[ -z "$job" ]]; then
    job="$(kcc get jobs --sort-by=.metadata.creationTimestamp --output name | tail -n 1)"
    [[ -n "$job" ]] || die 1 "no job in namespace $COMPACTOR_NAMESPACE yet: ./minikube.sh run-once"
  fi
  kcc logs --follow "job/${job#job.batch/}"
}

clean() {
  need kubectl "https://kubernetes.io/docs/tasks/tools/"
  # Jobs from run-once and the demo's job pods are not in the manifests: delete -k alone
  # would leave them.
  kcc delete jobs --all --ignore-not-found
  kubectl --context "$PROFILE" --namespace "$DEMO_NAMESPACE" delete pods --selector "$DEMO_LABEL" --ignore-not-found
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
  demo) demo ;;
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
