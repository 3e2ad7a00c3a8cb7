"""The Celery client side of `bench/celery.ts`: sends tasks when the driver asks.

One JSON command per line on stdin, one JSON answer per line on stdout:
  {"cmd": "noop", "n": 1000, "stored": false}  ->  {"sent": 1000}
      sends n `bench.noop` (or `bench.noop_stored`) tasks, one publish each, and
      returns once they are sent; the driver sees them finish by their deletes.
  {"cmd": "chord", "members": 100}  ->  {"result": 9900, "wall_ms": ...}
      runs chord(add(i, i) for i < members)(xsum) and waits for its result.
Errors answer {"error": "..."}. Ends at end of input.
"""
import json
import sys
import time
import traceback

from celery import chord

from bench_app import add, app, noop, noop_stored, xsum


def send_noops(n, stored):
    task = noop_stored if stored else noop
    with app.producer_or_acquire() as producer:
        for i in range(n):
            task.apply_async((i,), producer=producer)
    return {'sent': n}


def run_chord(members):
    started = time.perf_counter()
    result = chord(add.s(i, i) for i in range(members))(xsum.s()).get(timeout=300)
    return {'result': result, 'wall_ms': (time.perf_counter() - started) * 1000}


def main():
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        try:
            if command['cmd'] == 'noop':
                answer = send_noops(int(command['n']), bool(command.get('stored')))
            elif command['cmd'] == 'chord':
                answer = run_chord(int(command['members']))
            else:
                answer = {'error': f"unknown command {command['cmd']!r}"}
        except Exception as error:  # reported to the driver, which fails the run
            answer = {'error': f'{type(error).__name__}: {error}', 'trace': traceback.format_exc()}
        print(json.dumps(answer), flush=True)


if __name__ == '__main__':
    main()
