// Command oldsdk connects to the agent as an instance built by a faasflow
// from before the instance protocol's binary headers would: its hello
// header is JSON. It waits until the agent closes the connection.
package main

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"os"
)

func main() {
	nc, err := net.Dial("unix", os.Getenv("FAASFLOW_SOCKET"))
	if err != nil {
		os.Exit(1)
	}
	hdr, _ := json.Marshal(map[string]string{"instance": os.Getenv("FAASFLOW_INSTANCE"), "token": os.Getenv("FAASFLOW_TOKEN"), "language": "go"})
	frame := binary.BigEndian.AppendUint32(nil, uint32(5+len(hdr)))
	frame = append(frame, 1) // hello
	frame = binary.BigEndian.AppendUint32(frame, uint32(len(hdr)))
	nc.Write(append(frame, hdr...))
	io.Copy(io.Discard, nc)
}
