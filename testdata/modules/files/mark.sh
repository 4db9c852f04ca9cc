#!/bin/sh
# Writes a marker file; the script task runs it once (creates:).
echo "marked by script" > "$1"
