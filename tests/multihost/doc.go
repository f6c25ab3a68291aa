// Package multihost holds tests that run a FaaSFlow cluster on several
// hosts made of Linux network namespaces (internal/netns): a gateway and
// workers, each in its own namespace with its own address, joined by a
// bridge, so that worker loss, cut links and bad links can be tested with
// real processes and real packets.
//
// They need root and iproute2 (scripts/services/netns.sh start installs it,
// with iptables for kernels without netem) and the binaries of `make build`
// (or FAASFLOW_BIN naming their directory):
//
//	make build && go test ./tests/multihost/ -v
//
// Every client call runs inside a namespace: the CLI through `ip netns exec`
// in the gateway's namespace, HTTP checks with sockets made there.
package multihost
