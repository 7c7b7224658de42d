// Command kine-postgres serves the etcd API the stack's kube-apiserver stores its objects through,
// with kine's PostgreSQL backend on the stack's own PostgreSQL (database "kine").
//
// It is kine's server with one driver, built in this module beside Kubernetes: the two share their
// gRPC, protobuf and etcd packages, so a first start compiles about 120 more packages for it
// instead of kine's own build (about 870, SQLite translated to Go the largest of them).
//
// The data source comes from the KINE_ENDPOINT environment variable (postgres://…), so its password
// is never on a command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/k3s-io/kine/pkg/drivers"
	"github.com/k3s-io/kine/pkg/drivers/generic"
	_ "github.com/k3s-io/kine/pkg/drivers/pgsql"
	"github.com/k3s-io/kine/pkg/server"
	"github.com/sirupsen/logrus"
	"go.etcd.io/etcd/server/v3/embed"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "kine-postgres: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen-address", "127.0.0.1:2379", "host:port of the etcd API (plain gRPC)")
	maxOpen := flag.Int("max-open-connections", 16, "most PostgreSQL connections at once")
	flag.Parse()
	endpoint := os.Getenv("KINE_ENDPOINT")
	if !strings.HasPrefix(endpoint, "postgres://") {
		return errors.New("KINE_ENDPOINT must hold a postgres:// data source (the database kine keeps its table in)")
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var wg sync.WaitGroup
	// The same settings as kine's own command line defaults, with a bounded pool: the stack's
	// PostgreSQL also serves Backstage and the tests.
	_, backend, err := drivers.New(ctx, &wg, &drivers.Config{
		Endpoint:             endpoint,
		ConnectionPoolConfig: generic.ConnectionPoolConfig{MaxIdle: 4, MaxOpen: *maxOpen, MaxIdleTime: 2 * time.Minute},
		PollInterval:         time.Second,
		CompactTimeout:       5 * time.Second,
		CompactMinRetain:     1000,
		CompactBatchSize:     1000,
		PollBatchSize:        500,
	})
	if err != nil {
		// The data source may hold a password: only the driver's error is shown.
		return fmt.Errorf("opening the PostgreSQL backend: %w", err)
	}
	if err := backend.Start(ctx); err != nil {
		return fmt.Errorf("starting the PostgreSQL backend: %w", err)
	}

	// The keepalive settings of etcd itself: the apiserver's etcd client pings every 30 s, more
	// often than gRPC's default enforcement (5 min) allows.
	grpcServer := grpc.NewServer(
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: embed.DefaultGRPCKeepAliveMinTime}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    embed.DefaultGRPCKeepAliveInterval,
			Timeout: embed.DefaultGRPCKeepAliveTimeout,
		}),
		grpc.MaxConcurrentStreams(embed.DefaultMaxConcurrentStreams),
		grpc.MaxRecvMsgSize(int(embed.DefaultMaxRequestBytes)+512*1024),
		grpc.MaxSendMsgSize(math.MaxInt32),
	)
	server.New(backend, "http", 5*time.Second, "3.6.11").Register(grpcServer)

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		timer := time.AfterFunc(2*time.Second, grpcServer.Stop)
		defer timer.Stop()
		grpcServer.GracefulStop()
	}()
	logrus.Infof("kine (PostgreSQL) serving the etcd API on %s", listener.Addr())
	if err := grpcServer.Serve(listener); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	wg.Wait()
	return nil
}
