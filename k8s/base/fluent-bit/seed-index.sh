#!/bin/sh
# Runs before every start of Fluent Bit, then runs Fluent Bit in its place:
#
#   seed-index.sh /fluent-bit/bin/fluent-bit --config=...   (the DaemonSet's command)
#
# It puts back the s3 output's $INDEX counter file with a value above every index this node
# has used, so that a restarted Fluent Bit neither uploads a key it uploaded before (the PUT
# would replace that raw object) nor keys its next files before its last ones
# (`{slice}__{index}.gz`, ordered by slice then index). It runs in the Fluent Bit container,
# not in an init container, because a container restarted in its pod (a failed liveness
# probe) runs no init container again; the shell is busybox, which the DaemonSet's init
# container copies in (the Fluent Bit image has none).
#
# What it relies on, read in Fluent Bit's source (the 3.2 line the DaemonSet pins,
# fluent/fluent-bit:3.2.10; unchanged on master in 2026):
# - plugins/out_s3/s3.c, init_seq_index(): the counter is the file
#   {store_dir}/{bucket}/sequence/index_metadata/seq_index_{id}, where {id} is the output
#   instance's id (0: the first and only [OUTPUT] of fluent-bit.conf). read_seq_index()
#   reads it once at start with fscanf("%" PRIu64); a missing file means 0, and an empty or
#   non-numeric one makes Fluent Bit fail to start. write_seq_index() writes the number as
#   decimal text without a newline, in place (fopen "w+"), with mkdir 0700 for the folder.
# - s3.c, s3_put_object(): one counter for the output instance, whatever the tag: +1 and the
#   file rewritten before each PutObject, -1 after a failed one.
# - src/flb_fstore.c, flb_fstore_destroy(): a graceful stop deletes every fstore stream
#   holding no chunk, recursively; `sequence` holds none (the counter is no chunk), so the
#   counter goes (fluent/fluent-bit#11987; the fix, #11988, is in no release). A kill
#   (OOM, SIGKILL, a node crash) leaves it.
#
# What it writes: the largest of the counter file, its copy, and the clock:
# - the copy is a second name (hard link) for the counter file, outside `sequence/`: Fluent
#   Bit rewrites the same inode, so the copy still holds the last value once a graceful stop
#   has deleted the folder;
# - the clock, seconds since the epoch x 1000, covers a lost or unreadable counter: a node
#   uploads one file per container log file per minute (upload_timeout) or per MB
#   (total_file_size), one PUT at a time, far below 1000 a second, so what an earlier start
#   counted up from its own clock x 1000 stays below a later start's clock x 1000 (unless the
#   clock went back: the two files cover that). The values, about 1.8e12, stay far within
#   the integers parseRawKey reads exactly (2^53).
#
# Test knobs, never set in the DaemonSet: SEED_INDEX_ROOT, a directory standing for /, and
# NOW_S, the clock. Fails (and Fluent Bit does not start) when it cannot write the counter.
set -eu
umask 077

root=${SEED_INDEX_ROOT:-}
bucket=${S3_BUCKET:?S3_BUCKET is not set (fluent-bit.env)}
state=$root/var/lib/fluent-bit/job-logs
dir=$state/s3/$bucket/sequence/index_metadata
counter=$dir/seq_index_0
copy=$state/s3-seq_index_0

now=${NOW_S:-$(date +%s)}
case $now in
  '' | *[!0-9]*)
    echo "seed-index: the clock says '$now', not seconds since the epoch" >&2
    exit 1
    ;;
esac

# The counter in file $1 without leading zeros (shell arithmetic would read them as octal),
# or nothing when it is missing, empty, or not a number below 10^15.
counter_in() {
  v=
  if [ -f "$1" ]; then
    # Leading and trailing blanks go (default IFS), as fscanf skips them.
    read -r v <"$1" || true
  fi
  case $v in
    '' | *[!0-9]*) ;;
    *)
      v=${v#"${v%%[!0]*}"}
      if [ ${#v} -le 15 ]; then echo "${v:-0}"; fi
      ;;
  esac
}

next=$((now * 1000))
for file in "$counter" "$copy"; do
  value=$(counter_in "$file")
  if [ -n "$value" ]; then
    if [ "$value" -gt "$next" ]; then next=$value; fi
  elif [ -e "$file" ]; then
    echo "seed-index: $file holds no counter; not used" >&2
  fi
done

mkdir -p "$dir"
# A new file renamed into place: a crash leaves the old counter or the new one, never none.
printf '%s' "$next" >"$counter.new"
mv -f "$counter.new" "$counter"
ln -f "$counter" "$copy"
echo "seed-index: $counter = $next" >&2

if [ "$#" -gt 0 ]; then exec "$@"; fi
