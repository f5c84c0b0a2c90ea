// The RabbitMQ tutorial's RPC server, written for fibrpc's benchmark: declare the queue, set
// the prefetch (the tutorial uses 1), answer each request on its reply_to with the same
// correlation id, ack after publishing. Fibonacci is iterative (exact up to n=92) so the
// benchmark measures the RPC machinery rather than the tutorial's exponential recursion.
//
//	go-server [-queue rpc_queue] [-prefetch 1]
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func fib(n int) uint64 {
	var a, b uint64 = 0, 1
	for i := 0; i < n; i++ {
		a, b = b, a+b
	}
	return a
}

func failOnError(err error, msg string) {
	if err != nil {
		log.Fatalf("%s: %s", msg, err)
	}
}

func main() {
	queue := flag.String("queue", "rpc_queue", "queue to consume from")
	prefetch := flag.Int("prefetch", 1, "basic.qos prefetch count")
	flag.Parse()
	url := os.Getenv("AMQP_URL")
	if url == "" {
		url = "amqp://guest:guest@localhost:5672/"
	}

	conn, err := amqp.Dial(url)
	failOnError(err, "Failed to connect to RabbitMQ")
	defer conn.Close()
	ch, err := conn.Channel()
	failOnError(err, "Failed to open a channel")
	defer ch.Close()

	// The queue as another program declared it (the benchmark declares a classic or a quorum
	// queue first); the tutorial's own declaration, durable, only when it does not exist.
	q, err := ch.QueueDeclarePassive(*queue, false, false, false, false, nil)
	if err != nil {
		ch, err = conn.Channel() // a failed passive declare closes the channel
		failOnError(err, "Failed to open a channel")
		q, err = ch.QueueDeclare(*queue, true, false, false, false, nil)
		failOnError(err, "Failed to declare a queue")
	}
	failOnError(ch.Qos(*prefetch, 0, false), "Failed to set QoS")
	msgs, err := ch.Consume(q.Name, "", false, false, false, false, nil)
	failOnError(err, "Failed to register a consumer")

	log.Printf(" [*] Awaiting RPC requests on %s (prefetch %d)", q.Name, *prefetch)
	for d := range msgs {
		n, err := strconv.Atoi(string(d.Body))
		failOnError(err, "Failed to convert body to integer")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = ch.PublishWithContext(ctx, "", d.ReplyTo, false, false, amqp.Publishing{
			ContentType:   "text/plain",
			CorrelationId: d.CorrelationId,
			Body:          []byte(strconv.FormatUint(fib(n), 10)),
		})
		cancel()
		failOnError(err, "Failed to publish a message")
		d.Ack(false)
	}
}
