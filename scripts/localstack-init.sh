#!/usr/bin/env bash
# LocalStack init hook: docker-compose.yml mounts this file into /etc/localstack/init/ready.d/,
# so LocalStack runs it once it serves requests. Creates the bucket named by JOB_LOGS_BUCKET
# (set in docker-compose.yml); the localstack service turns healthy only once it exists.
# awslocal is the aws CLI of LocalStack's image, pointed at LocalStack itself.
set -euo pipefail

bucket="${JOB_LOGS_BUCKET:?JOB_LOGS_BUCKET is not set (see the localstack service in docker-compose.yml)}"
# A restarted container may already have it (PERSISTENCE=1): then there is nothing to do.
if awslocal s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
  echo "localstack-init: bucket $bucket exists"
else
  awslocal s3 mb "s3://$bucket"
fi
