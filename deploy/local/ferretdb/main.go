// Command parley-ferretdb runs FerretDB v1 (a MongoDB wire-protocol server) on top of
// PostgreSQL for Parley's local development and test set-up.
//
// Why a wrapper: the binary that `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`
// builds panics at start, because it expects a build-time version file that only FerretDB's
// own build (Taskfile) generates. The embeddable package github.com/FerretDB/FerretDB/ferretdb
// has no such requirement, so this small module links it and exposes the settings the set-up
// needs: the plain listener, the TLS listener (infra.sh's secure mode; flag names as FerretDB's
// own binary spells them), the PostgreSQL URL and the log level.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on (empty: no plaintext listener)")
	listenTLS := flag.String("listen-tls", "", "TLS address to listen on (empty: no TLS listener)")
	tlsCert := flag.String("listen-tls-cert-file", "", "TLS listener's certificate (PEM)")
	tlsKey := flag.String("listen-tls-key-file", "", "TLS listener's private key (PEM)")
	// FerretDB demands a client certificate from every client when a CA is given.
	tlsCA := flag.String("listen-tls-ca-file", "", "CA of client certificates; when set, every client must present one")
	pgURL := flag.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb", "PostgreSQL connection URL")
	level := flag.String("log-level", "warn", "log level: debug, info, warn, error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "parley-ferretdb: bad --log-level %q: %v\n", *level, err)
		os.Exit(64)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen, TLS: *listenTLS, TLSCertFile: *tlsCert, TLSKeyFile: *tlsKey, TLSCAFile: *tlsCA},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *pgURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "parley-ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger.Info("listening", "addr", *listen, "tls", *listenTLS)
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "parley-ferretdb: %v\n", err)
		os.Exit(1)
	}
}
