#!/usr/bin/env python3
"""Median (min–max) tables over several `shoplab compare` result.json files.

    scripts/runs-table.py BEFORE.json... [--after AFTER.json...]

Prints, for each set, every workload's CPU per request, p50 at the equal
open-loop rate and maximum throughput on each deployment, then the hops and
what metrics cost: how docs/RESULTS.md's before-and-after tables are made.
Where the runs counted (compare's counting pass), it then sets the counted
ratios to the monolith beside the timed CPU ratio of the same runs, each as
its median (min-max) and its largest distance from the median.
"""
import json, statistics, sys

def load(paths):
    return [json.load(open(p)) for p in paths]

def cell(values, fmt):
    values = sorted(values)
    return f"{fmt(statistics.median(values))} ({fmt(values[0])}–{fmt(values[-1])})"

def table(name, runs):
    us = lambda v: f"{v:.1f} µs"
    ms = lambda v: f"{v:.3f} ms"
    rps = lambda v: f"{v:.0f}/s"
    x = lambda v: f"{v:.2f}x"
    print(f"\n{name} ({len(runs)} runs; median (min–max))")
    print(f"{'':24}{'CPU per request':>28}{'p50 at equal load':>32}{'max throughput':>28}")
    for w in [w['workload'] for w in runs[0]['workloads']]:
        for dep in runs[0].get('order', ['monolith', 'microservices']):
            rs = [next(x for x in r['workloads'] if x['workload'] == w)['runs'][dep] for r in runs]
            print(f"{w + ' / ' + dep:24}"
                  f"{cell([r['cpu']['us_per_request'] for r in rs], us):>28}"
                  f"{cell([r['open']['latency_ms']['p50'] for r in rs], ms):>32}"
                  f"{cell([r['closed']['throughput_rps'] for r in rs], rps):>28}")
    hops = [r['hop'] for r in runs]
    line = (f"B {cell([h['b_async_ms'] for h in hops], ms)}; gateway hop {cell([h['gateway_hop_ms'] for h in hops], ms)}"
            f" = {cell([h['gateway_hop_over_b'] for h in hops], x)} B")
    if all('relay_hop_ms' in h for h in hops):
        line += (f"; bare relay hop {cell([h['relay_hop_ms'] for h in hops], ms)} = {cell([h['relay_hop_over_b'] for h in hops], x)} B"
                 f"; gateway/relay {cell([h['gateway_hop_ms'] / h['relay_hop_ms'] for h in hops], x)}")
    if all(h.get('internal_hop_ms') for h in hops):
        line += (f"; internal hop {cell([h['internal_hop_ms'] for h in hops], ms)} = {cell([h['internal_hop_over_b'] for h in hops], x)} B")
    else:
        line += "; internal hop n/a"
    print(line)
    if all(r.get('metrics_on') for r in runs):
        print("metrics on, cost of max throughput:", ", ".join(
            f"{m['workload']}/{m['deployment']} " + cell([next(y for y in r['metrics_on'] if y['workload'] == m['workload'] and y['deployment'] == m['deployment'])['cost'] * 100 for r in runs], lambda v: f"{v:.1f}%")
            for m in runs[0]['metrics_on']))

def spread(values):
    """The median, and the largest distance from it as a share of it."""
    median = statistics.median(values)
    return median, max(abs(v - median) for v in values) / median

def counted(name, runs):
    if not all(w['runs'][d].get('counted') for r in runs for w in r['workloads'] for d in w['runs']):
        return
    order = runs[0].get('order', ['monolith', 'microservices'])
    print(f"\n{name}: counted ratios to the monolith beside the timed CPU ratio, "
          "each: median (min-max), ±largest distance from the median")
    print(f"{'':28}{'instructions':>32}{'system calls':>32}{'timed CPU':>32}")
    for w in [w['workload'] for w in runs[0]['workloads']]:
        for dep in [d for d in order if d != 'monolith']:
            def ratios(figure):
                out = []
                for r in runs:
                    rs = next(x for x in r['workloads'] if x['workload'] == w)['runs']
                    out.append(figure(rs[dep]) / figure(rs['monolith']))
                return out
            cells = []
            for figure in (lambda f: f['counted']['instructions'], lambda f: f['counted']['syscalls'],
                           lambda f: f['cpu']['us_per_request']):
                values = ratios(figure)
                median, away = spread(values)
                cells.append(f"{cell(values, lambda v: f'{v:.2f}x')} ±{away * 100:.1f}%")
            print(f"{w + ' / ' + dep + ' ÷ mono':28}" + "".join(f"{c:>32}" for c in cells))

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] in ('-h', '--help'):
        sys.exit(__doc__)
    sep = sys.argv.index('--after') if '--after' in sys.argv else len(sys.argv)
    before, after = sys.argv[1:sep], sys.argv[sep + 1:]
    if before:
        table('before', load(before))
        counted('before', load(before))
    if after:
        table('after', load(after))
        counted('after', load(after))
