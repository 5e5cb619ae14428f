// Command benchsrv runs one echo server implementation of the benchmark.
//
//	benchsrv -impl NAME -listen ADDR [-stats ADDR]
//
// It prints "listening on HOST:PORT" (and "stats on HOST:PORT") on stdout and
// serves until killed. Implementations: rawtcp, wspeer-poll, wspeer-wait,
// wspeer-http, gorilla, coder, gobwas-wsutil, gobwas-frame, gws, and the
// permessage-deflate variants wspeer-poll-deflate, wspeer-wait-deflate,
// wspeer-http-deflate, gorilla-deflate, coder-deflate, gws-deflate.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/wspeer/wspeer/bench/internal/servers"
	"github.com/wspeer/wspeer/bench/internal/stats"
)

func main() {
	impl := flag.String("impl", "wspeer-wait", fmt.Sprintf("server implementation: %v", servers.Names()))
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on")
	statsAddr := flag.String("stats", "", "if set, serve memory stats as JSON at http://ADDR/stats")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file, ended by SIGINT/SIGTERM")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchsrv:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			<-sig
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		}()
	}
	if *statsAddr != "" {
		sl, err := net.Listen("tcp", *statsAddr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchsrv:", err)
			os.Exit(1)
		}
		fmt.Printf("stats on %s\n", sl.Addr())
		go stats.Serve(sl)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsrv:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := servers.Serve(*impl, ln); err != nil {
		fmt.Fprintln(os.Stderr, "benchsrv:", err)
		os.Exit(1)
	}
}
