#!/usr/bin/env python3
"""An independent implementation of the RabbitMQ tutorial's RPC server, in the tutorial's own
style (pika, prefetch 1, manual ack after the reply), used to test fibrpc's client against a
program that is not fibrpc. Written here; not part of the product.

usage: tutorial_server.py URL QUEUE classic|quorum
Prints "ready" on stdout once it consumes, then one line per request that carried a W3C
traceparent header ("traceparent <value>"); stops on SIGTERM (unacked requests go back to the queue).
"""
import signal
import sys

import pika


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def main():
    url, queue, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    # As the tutorials declare it: the seed's plain classic queue, or today's durable quorum queue.
    if kind == "quorum":
        channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})
    else:
        channel.queue_declare(queue=queue)

    def on_request(ch, method, props, body):
        traceparent = (props.headers or {}).get("traceparent")
        if traceparent is not None:
            print("traceparent", traceparent, flush=True)
        n = int(body)
        ch.basic_publish(
            exchange="",
            routing_key=props.reply_to,
            properties=pika.BasicProperties(correlation_id=props.correlation_id),
            body=str(fib(n)),
        )
        ch.basic_ack(delivery_tag=method.delivery_tag)

    channel.basic_qos(prefetch_count=1)
    channel.basic_consume(queue=queue, on_message_callback=on_request)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    try:
        channel.start_consuming()
    finally:
        connection.close()


if __name__ == "__main__":
    main()
