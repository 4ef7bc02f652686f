#!/usr/bin/env python3
"""Prints a seeded random sample of code lines of lib/ and constructs/ as Stryker `--mutate`
ranges, for a mutation score within a session's time: a full run over every mutant takes hours
on 2 cores (each mutant reruns the suite). Usage: mutation-sample.py LINES SEED"""
import glob
import random
import re
import sys

SKIP = re.compile(r'^\s*($|//|/\*|\*|import |export \* |[{}()\[\];,]+$)')


def candidates():
    for path in sorted(glob.glob('lib/**/*.ts', recursive=True) + glob.glob('constructs/**/*.ts', recursive=True)):
        if path == 'lib/index.ts':
            continue
        with open(path) as f:
            for number, line in enumerate(f, start=1):
                # Type-only lines (interfaces, `readonly x?: T;`) produce no mutant worth a run.
                if SKIP.match(line) or re.match(r'^\s*(readonly |export interface|interface )', line):
                    continue
                yield f'{path}:{number}-{number}'


def main():
    lines, seed = int(sys.argv[1]), int(sys.argv[2])
    pool = list(candidates())
    print(','.join(sorted(random.Random(seed).sample(pool, lines))))


if __name__ == '__main__':
    main()
