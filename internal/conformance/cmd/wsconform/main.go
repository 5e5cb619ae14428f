// Command wsconform runs wspeer's conformance suite (Autobahn TestSuite
// sections 1-7, 9, 10, 12 and 13) against any WebSocket implementation.
// Sections 12 and 13 (permessage-deflate) send fewer messages per case than
// Autobahn's 1000 unless -full is given.
//
// Client role, against a server's echo endpoint:
//
//	go run ./internal/conformance/cmd/wsconform -url ws://127.0.0.1:9001/
//
// Fuzzingserver role (Autobahn URL protocol), for a client that echoes:
//
//	go run ./internal/conformance/cmd/wsconform -serve 127.0.0.1:9001
//	wspeer autobahn -url ws://127.0.0.1:9001 -agent wspeer
//
// In the server role, the summary of an agent is printed when it calls
// /updateReports, and the command runs until interrupted (or -once).
// The exit status is 1 when a case is neither OK nor INFORMATIONAL.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/wspeer/wspeer/internal/conformance"
)

func main() {
	url := flag.String("url", "", "run the client role against this ws:// echo endpoint")
	serve := flag.String("serve", "", "run the fuzzingserver role on this address (host:port)")
	casesFlag := flag.String("cases", "", "comma-separated case patterns (\"1.1.1\", \"6.4*\", \"9.\"); default all")
	once := flag.Bool("once", false, "server role: exit after the first agent's /updateReports")
	verbose := flag.Bool("v", false, "print each case as it finishes")
	full := flag.Bool("full", false, "sections 12 and 13: send Autobahn's 1000 messages per case")
	flag.Parse()
	if (*url == "") == (*serve == "") {
		fmt.Fprintln(os.Stderr, "wsconform: give exactly one of -url or -serve")
		flag.Usage()
		os.Exit(2)
	}
	var patterns []string
	if *casesFlag != "" {
		patterns = strings.Split(*casesFlag, ",")
	}
	all := conformance.AllCases()
	if *full {
		all = conformance.AllCasesFull()
	}
	cases := conformance.Select(all, patterns...)
	if len(cases) == 0 {
		fmt.Fprintln(os.Stderr, "wsconform: no case matches", *casesFlag)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	progress := func(r conformance.Result) {
		if *verbose {
			fmt.Fprintf(os.Stderr, "%-8s %-13s %-8s %s\n", r.ID, r.Verdict, r.Duration.Round(time.Millisecond), r.Detail)
		}
	}
	if *url != "" {
		rep := conformance.RunClient(ctx, *url, cases, progress)
		fmt.Print(rep.Summary())
		exit(rep)
	}
	os.Exit(runServer(ctx, *serve, cases, *once, progress))
}

func runServer(ctx context.Context, addr string, cases []*conformance.Case, once bool, progress func(conformance.Result)) int {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsconform:", err)
		return 1
	}
	fmt.Printf("fuzzingserver listening on ws://%s (%d cases)\n", l.Addr(), len(cases))
	srv := conformance.NewServer(cases)
	srv.Progress = func(agent string, r conformance.Result) { progress(r) }
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Print an agent's summary when it asks for the report update.
	var mu sync.Mutex
	printed := map[string]int{}
	status := 0
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			mu.Lock()
			for _, agent := range srv.Agents() {
				if n := srv.ReportsUpdated(agent); n > printed[agent] {
					printed[agent] = n
					rep := srv.Report(agent)
					if rep == nil {
						rep = &conformance.Report{Agent: agent}
					}
					fmt.Print(rep.Summary())
					if len(rep.NonOK()) > 0 {
						status = 1
					}
					if once {
						cancel()
					}
				}
			}
			mu.Unlock()
		}
	}()
	if err := srv.Serve(ctx, l); err != nil {
		fmt.Fprintln(os.Stderr, "wsconform:", err)
		return 1
	}
	mu.Lock()
	defer mu.Unlock()
	return status
}

func exit(rep *conformance.Report) {
	if len(rep.NonOK()) > 0 || len(rep.Results) == 0 {
		os.Exit(1)
	}
	os.Exit(0)
}
