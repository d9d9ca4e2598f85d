#!/usr/bin/env python3
"""Judges and windows a partitioned JSONL traffic log with Spark, the tools running as pipe stages.

    python3 examples/spark/judge_and_window.py [options] INPUT WINDOWS_OUT
    spark-submit examples/spark/judge_and_window.py [options] INPUT WINDOWS_OUT

INPUT is anything Spark's textFile reads: a file, a directory of part files, a glob. WINDOWS_OUT is
the file the finished window records go to (JSON Lines; `-` for standard output).

Stages (examples/spark/README.md says more):
  0. with --generate, gemma-infer: every partition's questions stream through it, which adds the
     model's answer (and its latency and tokens) to each record, in order;
  1. judge: every partition's records stream through the judge command (RDD.pipe), which adds its
     verdict to each record and keeps their order;
  2. score-window --partial: every partition's judged records stream through it; it writes one
     mergeable partial record per window and group of that partition;
  3. score-window --merge: the partials, collected on the driver (a few records per window and
     group, whatever the traffic), are merged into the windows one run over the whole log writes
     (docs/windows.md: why this is exact).

The tools are looked up in --bin (default .build/release). Every executor must see them at that
path (local mode, a shared file system, or the same install on every host).
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="Judge and window a JSONL traffic log with Spark, the FeedbackLoop tools as RDD.pipe stages.")
    parser.add_argument("input", help="traffic log: a JSONL file, a directory of part files or a glob")
    parser.add_argument("windows_out", help="where the window records go (JSONL); - for standard output")
    parser.add_argument("--bin", default=".build/release",
                        help="directory of the tools (judge, score-window); default .build/release")
    parser.add_argument("--master", default=None,
                        help="Spark master, e.g. local[2] (default: spark-submit's, else local[2])")
    parser.add_argument("--partitions", type=int, default=None,
                        help="at least this many input partitions (default: Spark's)")
    parser.add_argument("--generate", default="none",
                        help="a gemma-infer command that answers the input's questions first, its first word "
                             "looked up in --bin (e.g. 'gemma-infer --max-tokens 64 --threads 1'); "
                             "'none' (the default): the input holds answers already")
    parser.add_argument("--judge", default="judge --check no_pii",
                        help="the judge command, its first word looked up in --bin "
                             "(default 'judge --check no_pii'; e.g. 'judge --local' for the default model); "
                             "'none' skips judging (the log is judged already)")
    parser.add_argument("--window", default="--period 2m",
                        help="score-window's window options for the partial stage (default '--period 2m'; "
                             "e.g. '--period 10m --by model,adapter --lateness 5s')")
    parser.add_argument("--merge", default="",
                        help="options of the merge stage only, e.g. '--reference-windows 1' for drift")
    parser.add_argument("--judged", default=None,
                        help="also write the judged records to this directory (Spark text output: part-00000, ... "
                             "each partition in its input order)")
    parser.add_argument("--driver-memory", default="512m", help="driver memory when this script starts Spark (default 512m)")
    return parser.parse_args(argv)


def tool_command(bin_dir, command):
    """The command's words with its first word taken from bin_dir when the tool is there."""
    words = shlex.split(command)
    if not words:
        raise SystemExit("judge_and_window: an empty command")
    candidate = os.path.join(bin_dir, words[0])
    if "/" not in words[0]:
        if not os.access(candidate, os.X_OK):
            raise SystemExit(f"judge_and_window: {candidate} is not an executable: build the tools "
                             f"(swift build -c release) or give --bin")
        words[0] = candidate
    return words


def main(argv):
    args = parse_arguments(argv)
    bin_dir = os.path.abspath(args.bin)
    window_options = shlex.split(args.window)
    if "--partial" in window_options or "--merge" in window_options:
        raise SystemExit("judge_and_window: --window takes window options only; the job adds --partial and --merge")
    judge = None if args.judge.strip() == "none" else tool_command(bin_dir, args.judge)
    generate = None if args.generate.strip() == "none" else tool_command(bin_dir, args.generate)
    partial = tool_command(bin_dir, "score-window") + ["--partial"] + window_options
    merge = tool_command(bin_dir, "score-window") + ["--merge"] + shlex.split(args.merge)

    # Spark settings that keep a local run self-contained: loopback only, no web UI, scratch space
    # in a temporary directory. spark-submit's own settings (--master, --conf) take precedence.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SystemExit("judge_and_window: pyspark is not installed: python3 -m pip install pyspark "
                         "(it needs Java 17: apt-get install default-jre-headless)")
    scratch = tempfile.mkdtemp(prefix="judge-and-window-")
    builder = SparkSession.builder.appName("feedbackloop-judge-and-window")
    if args.master:
        builder = builder.master(args.master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit, which sets its own
        builder = builder.master("local[2]")
    spark = (builder
             .config("spark.driver.memory", args.driver_memory)
             .config("spark.local.dir", scratch)
             .config("spark.ui.enabled", "false")
             .getOrCreate())
    try:
        context = spark.sparkContext
        context.setLogLevel("WARN")
        # The tools see the driver's environment (HOME, FEEDBACKLOOP_HOME, FEEDBACKLOOP_MODEL, an
        # endpoint's OPENAI_* variables): RDD.pipe gives its commands only the environment passed.
        environment = dict(os.environ)
        lines = context.textFile(args.input, minPartitions=args.partitions) if args.partitions \
            else context.textFile(args.input)
        records = lines.filter(lambda line: line.strip() != "")
        # Each stage streams a partition through the tool's standard input and output. checkCode:
        # a tool that exits non-zero (judge: some records failed; score-window: bad lines) fails the
        # task, and so the job, instead of passing on a partition silently cut short.
        answered = records.pipe(shlex.join(generate), env=environment, checkCode=True) if generate else records
        judged = answered.pipe(shlex.join(judge), env=environment, checkCode=True) if judge else answered
        if args.judged:
            judged = judged.cache()  # judged once, used by two actions
            counted = context.accumulator(0)

            def count(line):
                counted.add(1)
                return line
            started = time.monotonic()
            judged.map(count).saveAsTextFile(args.judged)
            seconds = time.monotonic() - started
            stages = "answered and judged" if generate else "judged"
            sys.stderr.write(f"judge_and_window: {stages} {counted.value} records in {seconds:.1f} s "
                             f"({counted.value / max(seconds, 1e-9):.0f} records/s)\n")
        started = time.monotonic()
        partials = judged.pipe(shlex.join(partial), env=environment, checkCode=True).collect()
        merged = subprocess.run(merge, input="".join(p + "\n" for p in partials), text=True,
                                capture_output=True, env=environment)
        sys.stderr.write(merged.stderr)
        if merged.returncode != 0:
            raise SystemExit(f"judge_and_window: score-window --merge exited {merged.returncode}")
        if args.windows_out == "-":
            sys.stdout.write(merged.stdout)
        else:
            with open(args.windows_out, "w") as out:
                out.write(merged.stdout)
        sys.stderr.write(f"judge_and_window: {len(partials)} partial records from "
                         f"{judged.getNumPartitions()} partitions merged into "
                         f"{merged.stdout.count(chr(10))} windows in {time.monotonic() - started:.1f} s\n")
    finally:
        spark.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
