#!/usr/bin/env bash
# LocalStack init hook, mounted into /etc/localstack/init/ready.d/ by localstack.yaml here and
# by docker-compose.yml (one copy: kustomize loads files only from inside the overlay):
# creates the bucket named by JOB_LOGS_BUCKET once LocalStack serves requests. awslocal is
# the aws CLI of LocalStack's image, pointed at LocalStack itself.
set -euo pipefail

bucket="${JOB_LOGS_BUCKET:?JOB_LOGS_BUCKET is not set (see localstack.yaml or docker-compose.yml)}"
# A restarted container may already have it (PERSISTENCE=1): then there is nothing to do.
if awslocal s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
  echo "localstack-init: bucket $bucket exists"
else
  awslocal s3 mb "s3://$bucket"
fi
