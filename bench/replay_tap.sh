#!/usr/bin/env bash
# A Singer "tap" that replays a recorded tap output: prints the file named by the config's
# "path". Both lakepipe and the peer read the same bytes through it.
config=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    *) shift ;;
  esac
done
path="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["path"])' "$config")"
exec cat "$path"
