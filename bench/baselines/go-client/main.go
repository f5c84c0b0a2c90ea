// The RabbitMQ tutorial's RPC client, written for fibrpc's benchmark.
//
//	go-client 30                                    one call as the tutorial makes it: exclusive
//	                                                reply queue, one request, print F(n), exit
//	go-client -requests 20000 -concurrency 64 30    a load loop on direct reply-to, every answer
//	                                                checked; prints {"calls":…,"seconds":…,"callsPerSecond":…}
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
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
	queue := flag.String("queue", "rpc_queue", "queue the server consumes from")
	requests := flag.Int("requests", 0, "load mode: this many requests (0: one tutorial call)")
	concurrency := flag.Int("concurrency", 64, "load mode: requests in flight")
	flag.Parse()
	n, err := strconv.Atoi(flag.Arg(0))
	failOnError(err, "usage: go-client [flags] N")
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

	if *requests == 0 {
		fmt.Println(oneCall(ch, *queue, n))
		return
	}
	load(ch, *queue, n, *requests, *concurrency)
}

// oneCall is the tutorial's fibonacciRPC: an exclusive server-named reply queue, one request.
func oneCall(ch *amqp.Channel, queue string, n int) string {
	q, err := ch.QueueDeclare("", false, false, true, false, nil)
	failOnError(err, "Failed to declare a queue")
	msgs, err := ch.Consume(q.Name, "", true, false, false, false, nil)
	failOnError(err, "Failed to register a consumer")
	corrId := strconv.FormatInt(time.Now().UnixNano(), 36)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = ch.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{
		ContentType:   "text/plain",
		CorrelationId: corrId,
		ReplyTo:       q.Name,
		Body:          []byte(strconv.Itoa(n)),
	})
	failOnError(err, "Failed to publish a message")
	for d := range msgs {
		if d.CorrelationId == corrId {
			return string(d.Body)
		}
	}
	log.Fatal("reply consumer closed")
	return ""
}

// load keeps `concurrency` requests in flight on direct reply-to until `requests` were answered.
func load(ch *amqp.Channel, queue string, n, requests, concurrency int) {
	msgs, err := ch.Consume("amq.rabbitmq.reply-to", "", true, false, false, false, nil)
	failOnError(err, "Failed to consume from direct reply-to")
	want := strconv.FormatUint(fib(n), 10)
	body := []byte(strconv.Itoa(n))
	var waiting sync.Map // correlation id -> chan string
	go func() {
		for d := range msgs {
			if reply, ok := waiting.LoadAndDelete(d.CorrelationId); ok {
				reply.(chan string) <- string(d.Body)
			}
		}
	}()
	var issued, wrong int64
	var nextId uint64
	var wg sync.WaitGroup
	started := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply := make(chan string, 1)
			for atomic.AddInt64(&issued, 1) <= int64(requests) {
				id := strconv.FormatUint(atomic.AddUint64(&nextId, 1), 10)
				waiting.Store(id, reply)
				err := ch.PublishWithContext(context.Background(), "", queue, false, false, amqp.Publishing{
					CorrelationId: id,
					ReplyTo:       "amq.rabbitmq.reply-to",
					Body:          body,
				})
				failOnError(err, "Failed to publish a message")
				if <-reply != want {
					atomic.AddInt64(&wrong, 1)
				}
			}
		}()
	}
	wg.Wait()
	seconds := time.Since(started).Seconds()
	out, _ := json.Marshal(map[string]interface{}{
		"calls": requests, "wrong": wrong, "seconds": seconds, "callsPerSecond": float64(requests) / seconds,
	})
	fmt.Println(string(out))
	if wrong > 0 {
		os.Exit(1)
	}
}
