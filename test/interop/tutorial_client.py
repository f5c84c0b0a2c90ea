#!/usr/bin/env python3
"""An independent implementation of the RabbitMQ tutorial's RPC client (pika, an exclusive
auto-named callback queue, a uuid correlation id), used to test `fibrpc serve` against a
program that is not fibrpc. Written here; not part of the product.

usage: tutorial_client.py URL QUEUE N [N...]
Prints F(n) per line, or "error <body>" for a reply of type "error"; exits 4 on a timeout.
"""
import sys
import time
import uuid

import pika

TIMEOUT_S = 10


def main():
    url, queue, ns = sys.argv[1], sys.argv[2], sys.argv[3:]
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    callback_queue = channel.queue_declare(queue="", exclusive=True).method.queue
    replies = {}

    def on_response(ch, method, props, body):
        replies[props.correlation_id] = (props.type, body.decode())

    channel.basic_consume(queue=callback_queue, on_message_callback=on_response, auto_ack=True)

    for n in ns:
        corr_id = str(uuid.uuid4())
        channel.basic_publish(
            exchange="",
            routing_key=queue,
            properties=pika.BasicProperties(reply_to=callback_queue, correlation_id=corr_id),
            body=str(n),
        )
        deadline = time.monotonic() + TIMEOUT_S
        while corr_id not in replies:
            if time.monotonic() >= deadline:
                print(f"timeout waiting for n={n}", file=sys.stderr)
                sys.exit(4)
            connection.process_data_events(time_limit=0.1)
        kind, body = replies.pop(corr_id)
        print(f"error {body}" if kind == "error" else body, flush=True)
    connection.close()


if __name__ == "__main__":
    main()
