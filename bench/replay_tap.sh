#!/usr/bin/env bash
# A Singer "tap" that replays a recorded tap output: prints the file named by the config's
# "path". Both lakepipe and the peer read the same bytes through it. The path is taken
# from the config ({"path": "..."}, written by bench/run.py) with sed, not a JSON parser:
# starting Python here cost both tools ~0.1 s per run.
config=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    *) shift ;;
  esac
done
path="$(sed -n 's/.*"path": *"\([^"]*\)".*/\1/p' "$config")"
exec cat "$path"
