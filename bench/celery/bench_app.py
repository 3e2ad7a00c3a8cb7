"""The Celery app of `bench/celery.ts`: the same tasks as the Ferry app beside it.

Configured from the environment the driver sets:
  CELERY_BENCH_BROKER      sqs://local:local@127.0.0.1:<proxy port>/  or  redis://127.0.0.1:<port>/0
  CELERY_BENCH_QUEUE_URL   the queue's URL (SQS only: kombu's predefined queue, through the proxy)
  CELERY_BENCH_BACKEND     redis://127.0.0.1:<port>/0  (the result backend; a chord needs one)

Run with Debian's Python (/usr/bin/python3) and its python3-celery 5.x.
"""
import os

from celery import Celery

QUEUE = 'celery'
BROKER = os.environ['CELERY_BENCH_BROKER']

app = Celery('ferry_bench', broker=BROKER, backend=os.environ['CELERY_BENCH_BACKEND'])
app.conf.update(
    task_default_queue=QUEUE,
    # A message is deleted only after its task ran, as Ferry's worker (and
    # Lambda's SQS event source) does: the same at-least-once delivery on both
    # sides, and the driver can tell that N tasks finished from N deletes.
    task_acks_late=True,
    task_serializer='json',
    result_serializer='json',
    accept_content=['json'],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
if BROKER.startswith('sqs://'):
    app.conf.broker_transport_options = {
        'region': 'us-east-1',
        'is_secure': False,
        # The queue exists already (the driver created it in fauxqs): no
        # ListQueues / CreateQueue calls, as kombu recommends for production.
        'predefined_queues': {
            QUEUE: {
                'url': os.environ['CELERY_BENCH_QUEUE_URL'],
                'access_key_id': 'local',
                'secret_access_key': 'local',
            },
        },
    }


@app.task(name='bench.noop', ignore_result=True)
def noop(n):
    """Does nothing; stores no result (Ferry: `trackStatus: false`)."""
    return None


@app.task(name='bench.noop_stored')
def noop_stored(n):
    """Does nothing; its state and result go to the result backend (Ferry: a tracked job)."""
    return None


@app.task(name='bench.add')
def add(a, b):
    return a + b


@app.task(name='bench.xsum')
def xsum(values):
    return sum(values)
