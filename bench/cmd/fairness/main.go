// Command fairness measures how a `wspeer echo -compress` server treats a
// good client while others loop huge compressed messages through it (issue
// 15, F3): the good client's connect + echo time, median and max.
//
//	go run ./cmd/fairness -wspeer /path/to/wspeer [-hogs 2] [-size 16MiB] [-n 40]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/wspeer/wspeer"
)

func main() {
	bin := flag.String("wspeer", "wspeer", "the wspeer binary to run as the server")
	hogs := flag.Int("hogs", 2, "clients looping huge compressed messages")
	size := flag.Int("size", 16<<20, "size of a hog's message (inflated)")
	n := flag.Int("n", 40, "good client's connect + echo rounds")
	flag.Parse()
	srv := exec.Command(*bin, "echo", "-compress", "-listen", "127.0.0.1:0", "-max-message", fmt.Sprint(2**size))
	out, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		fail(err)
	}
	defer srv.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hogCtx, stopHogs := context.WithCancel(ctx)
	echoes := make(chan int, *hogs)
	for range *hogs {
		go hog(hogCtx, url, *size, echoes)
	}
	time.Sleep(500 * time.Millisecond) // the hogs are busy
	var took []time.Duration
	for range *n {
		start := time.Now()
		if err := goodRound(ctx, url); err != nil {
			fail(err)
		}
		took = append(took, time.Since(start))
		time.Sleep(20 * time.Millisecond)
	}
	stopHogs()
	total := 0
	for range *hogs {
		total += <-echoes
	}
	slices.Sort(took)
	fmt.Printf("%d hogs echoed %d messages of %d MiB meanwhile; good client connect+echo: median %v, max %v (%d rounds)\n",
		*hogs, total, *size>>20, took[len(took)/2].Round(10*time.Microsecond), took[len(took)-1].Round(10*time.Microsecond), len(took))
}

func dial(ctx context.Context, url string, max int) (*wspeer.Peer, error) {
	p := wspeer.NewPeer()
	p.Compression = true
	p.InboundBufferSize, p.OutboundBufferSize = max, max
	if err := p.ConnectToURL(url, nil); err != nil {
		return nil, err
	}
	for p.ReadyState() == wspeer.StateConnecting && p.Wait(ctx) == nil {
		p.Poll()
	}
	if p.ReadyState() != wspeer.StateOpen {
		return nil, fmt.Errorf("connect: %v", p.CloseError())
	}
	return p, nil
}

// hog loops a compressible message of size bytes until ctx ends.
func hog(ctx context.Context, url string, size int, echoes chan<- int) {
	n := 0
	defer func() { echoes <- n }()
	p, err := dial(ctx, url, 2*size)
	if err != nil {
		fail(err)
	}
	defer p.Close(-1, "")
	msg := make([]byte, size) // zeros: a few KiB compressed
	for ctx.Err() == nil {
		if err := p.PutPacket(msg); err != nil {
			return
		}
		for p.AvailablePacketCount() == 0 && p.Wait(ctx) == nil {
			p.Poll()
		}
		if _, err := p.GetPacket(); err != nil {
			return
		}
		n++
	}
}

// goodRound connects, echoes one small message and closes.
func goodRound(ctx context.Context, url string) error {
	p, err := dial(ctx, url, 1<<20)
	if err != nil {
		return err
	}
	defer p.Close(-1, "")
	p.SendText("hello")
	for p.AvailablePacketCount() == 0 && p.Wait(ctx) == nil {
		p.Poll()
	}
	if b, err := p.GetPacket(); err != nil || string(b) != "hello" {
		return fmt.Errorf("echo: %q %v", b, err)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fairness:", err)
	os.Exit(1)
}
