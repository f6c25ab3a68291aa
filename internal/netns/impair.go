//go:build linux

package netns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Impairment is what a bad link does to the packets a host sends.
type Impairment struct {
	Delay time.Duration // added to every packet
	Loss  float64       // percent of packets dropped, 0-100
}

func (i Impairment) String() string {
	return fmt.Sprintf("delay %s, loss %g%%", i.Delay, i.Loss)
}

// Impair makes a host's link bad for the packets it sends (its egress, as
// netem on its end would), packet by packet (segmentation offload off on
// its end): `tc qdisc replace dev eth0 root netem delay X
// loss Y%` inside its namespace. Kernels built without netem (sch_netem)
// get the same from netfilter instead: an iptables statistic rule drops
// Loss% of the host's outgoing packets and an NFQUEUE rule hands the rest
// to a queue that this process releases after Delay. It returns which of
// the two it used ("netem" or "nfqueue").
func (n *Net) Impair(host string, imp Impairment) (string, error) {
	h := n.Host(host)
	if imp.Loss < 0 || imp.Loss > 100 || imp.Delay < 0 {
		return "", fmt.Errorf("netns: impairment %s out of range", imp)
	}
	if err := n.Unimpair(host); err != nil {
		return "", err
	}
	// One packet per segment, as on a wire: otherwise the host's stack hands
	// over segmentation-offload bursts of up to 64 KiB, and a loss of one
	// drops dozens of segments at once.
	if err := n.ipIn(h.NS, "link", "set", h.Dev, "gso_max_segs", "1"); err != nil {
		return "", err
	}
	netem := []string{"netns", "exec", h.NS, "tc", "qdisc", "replace", "dev", h.Dev, "root", "netem"}
	if imp.Delay > 0 {
		netem = append(netem, "delay", fmt.Sprintf("%dus", imp.Delay.Microseconds()))
	}
	if imp.Loss > 0 {
		netem = append(netem, "loss", strconv.FormatFloat(imp.Loss, 'f', -1, 64)+"%")
	}
	err := command(10*time.Second, "ip", netem...)
	if err == nil {
		return "netem", nil
	}
	if _, lerr := exec.LookPath("tc"); lerr == nil && !strings.Contains(err.Error(), "qdisc kind is unknown") {
		return "", err
	}
	// No netem here: netfilter instead.
	if _, lerr := exec.LookPath("iptables"); lerr != nil {
		return "", fmt.Errorf("netns: this kernel has no netem (%v) and the iptables command for the fallback is missing: install iptables (scripts/services/netns.sh start does)", err)
	}
	ipt := func(args ...string) error {
		return command(15*time.Second, "ip", append([]string{"netns", "exec", h.NS, "iptables", "-w", "10"}, args...)...)
	}
	if imp.Loss > 0 {
		p := strconv.FormatFloat(imp.Loss/100, 'f', -1, 64)
		if err := ipt("-A", "OUTPUT", "-o", h.Dev, "-m", "statistic", "--mode", "random", "--probability", p, "-j", "DROP"); err != nil {
			return "", err
		}
	}
	if imp.Delay > 0 {
		q, err := newDelayQueue(h.NS, delayQueueNum, imp.Delay)
		if err != nil {
			n.Unimpair(host)
			return "", err
		}
		n.mu.Lock()
		n.queues = append(n.queues, q)
		n.mu.Unlock()
		// --queue-bypass: packets pass undelayed if the queue is gone.
		if err := ipt("-A", "OUTPUT", "-o", h.Dev, "-j", "NFQUEUE", "--queue-num", strconv.Itoa(delayQueueNum), "--queue-bypass"); err != nil {
			n.Unimpair(host)
			return "", err
		}
	}
	return "nfqueue", nil
}

// Unimpair takes a host's impairment off (either kind).
func (n *Net) Unimpair(host string) error {
	h := n.Host(host)
	// Deleting a qdisc that is not there fails; that is fine.
	n.ipIn(h.NS, "link", "set", h.Dev, "gso_max_segs", "65535")
	command(10*time.Second, "ip", "netns", "exec", h.NS, "tc", "qdisc", "del", "dev", h.Dev, "root")
	var err error
	if _, lerr := exec.LookPath("iptables"); lerr == nil {
		// The host's namespace is ours alone: its OUTPUT chain holds only
		// what Impair put there.
		err = command(15*time.Second, "ip", "netns", "exec", h.NS, "iptables", "-w", "10", "-F", "OUTPUT")
	}
	n.mu.Lock()
	keep := n.queues[:0]
	var drop []*delayQueue
	for _, q := range n.queues {
		if q.ns == h.NS {
			drop = append(drop, q)
		} else {
			keep = append(keep, q)
		}
	}
	n.queues = keep
	n.mu.Unlock()
	for _, q := range drop {
		q.close()
	}
	return err
}

// DelayStats says how many packets the nfqueue fallback of a host delayed.
func (n *Net) DelayStats(host string) (delayed int64, ok bool) {
	h := n.Host(host)
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, q := range n.queues {
		if q.ns == h.NS {
			return q.count.Load(), true
		}
	}
	return 0, false
}

// The nfqueue fallback: a netlink socket (NETLINK_NETFILTER) made inside
// the host's namespace binds one queue; every packet queued there is
// accepted again once Delay has passed. The constants are those of
// linux/netfilter/nfnetlink_queue.h.
const (
	delayQueueNum = 7

	netlinkNetfilter = 12
	nfnlSubsysQueue  = 3
	nfqnlMsgPacket   = 0
	nfqnlMsgVerdict  = 1
	nfqnlMsgConfig   = 2

	nfqaPacketHdr  = 1
	nfqaVerdictHdr = 2

	nfqaCfgCmd      = 1
	nfqaCfgParams   = 2
	nfqaCfgQueueMax = 3
	nfqaCfgMask     = 4
	nfqaCfgFlags    = 5

	nfqnlCfgCmdBind = 1
	nfqnlCopyMeta   = 1
	nfqaCfgFFailOpn = 1 << 0
	nfqaCfgFGSO     = 1 << 2

	nfAccept = 1
)

type delayQueue struct {
	ns    string
	fd    int
	delay time.Duration
	pend  chan pending
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
	count atomic.Int64
	seq   atomic.Uint32
}

type pending struct {
	id  uint32
	due time.Time
}

func newDelayQueue(ns string, num uint16, delay time.Duration) (*delayQueue, error) {
	q := &delayQueue{ns: ns, fd: -1, delay: delay, pend: make(chan pending, 1<<16), stop: make(chan struct{})}
	err := inNamespace(ns, func() error {
		fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, netlinkNetfilter)
		if err != nil {
			return fmt.Errorf("netlink socket: %w", err)
		}
		q.fd = fd
		return nil
	})
	if err != nil {
		if q.fd >= 0 {
			syscall.Close(q.fd)
		}
		return nil, fmt.Errorf("netns %s: delay queue: %w", ns, err)
	}
	fail := func(err error) (*delayQueue, error) {
		syscall.Close(q.fd)
		return nil, fmt.Errorf("netns %s: delay queue: %w", ns, err)
	}
	if err := syscall.Bind(q.fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fail(err)
	}
	// Room for bursts; as root the limit can be passed (SO_RCVBUFFORCE).
	if err := syscall.SetsockoptInt(q.fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 16<<20); err != nil {
		syscall.SetsockoptInt(q.fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<20)
	}
	// Reads wake up now and then to see whether the queue was closed.
	tv := syscall.NsecToTimeval((200 * time.Millisecond).Nanoseconds())
	if err := syscall.SetsockoptTimeval(q.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return fail(err)
	}
	bind := attr(nfqaCfgCmd, []byte{nfqnlCfgCmdBind, 0, 0, 0})
	if err := q.request(nfqnlMsgConfig, num, bind); err != nil {
		return fail(fmt.Errorf("bind queue %d: %w", num, err))
	}
	params := make([]byte, 5)
	binary.BigEndian.PutUint32(params, 0) // copy_range: no payload
	params[4] = nfqnlCopyMeta
	cfg := attr(nfqaCfgParams, params)
	cfg = append(cfg, attr(nfqaCfgQueueMax, be32(1<<15))...)
	cfg = append(cfg, attr(nfqaCfgMask, be32(nfqaCfgFFailOpn|nfqaCfgFGSO))...)
	cfg = append(cfg, attr(nfqaCfgFlags, be32(nfqaCfgFFailOpn|nfqaCfgFGSO))...)
	if err := q.request(nfqnlMsgConfig, num, cfg); err != nil {
		return fail(fmt.Errorf("configure queue %d: %w", num, err))
	}
	q.wg.Add(2)
	go q.read()
	go q.release(num)
	return q, nil
}

// request sends a config message and waits for its acknowledgement.
func (q *delayQueue) request(msgType uint16, num uint16, attrs []byte) error {
	seq := q.seq.Add(1)
	if err := q.send(msgType, num, attrs, syscall.NLM_F_REQUEST|syscall.NLM_F_ACK, seq); err != nil {
		return err
	}
	buf := make([]byte, 8192)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		nr, _, err := syscall.Recvfrom(q.fd, buf, 0)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				continue
			}
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:nr])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Type == syscall.NLMSG_ERROR && m.Header.Seq == seq && len(m.Data) >= 4 {
				if code := int32(binary.LittleEndian.Uint32(m.Data[:4])); code != 0 {
					return syscall.Errno(-code)
				}
				return nil
			}
		}
	}
	return errors.New("no acknowledgement from the kernel")
}

func (q *delayQueue) send(msgType uint16, num uint16, attrs []byte, flags uint16, seq uint32) error {
	b := make([]byte, 16+4, 16+4+len(attrs))
	binary.LittleEndian.PutUint16(b[4:], nfnlSubsysQueue<<8|msgType)
	binary.LittleEndian.PutUint16(b[6:], flags)
	binary.LittleEndian.PutUint32(b[8:], seq)
	b[16] = syscall.AF_UNSPEC
	b[17] = 0 // NFNETLINK_V0
	binary.BigEndian.PutUint16(b[18:], num)
	b = append(b, attrs...)
	binary.LittleEndian.PutUint32(b[0:], uint32(len(b)))
	return syscall.Sendto(q.fd, b, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK})
}

// read takes queued packets' IDs and passes them on with their due time.
func (q *delayQueue) read() {
	defer q.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		select {
		case <-q.stop:
			return
		default:
		}
		nr, _, err := syscall.Recvfrom(q.fd, buf, 0)
		if err != nil {
			// EAGAIN: the read timed out; ENOBUFS: the kernel dropped
			// messages (those packets are lost, as on a bad link).
			continue
		}
		now := time.Now()
		msgs, err := syscall.ParseNetlinkMessage(buf[:nr])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			if m.Header.Type != nfnlSubsysQueue<<8|nfqnlMsgPacket || len(m.Data) < 4 {
				continue
			}
			if id, ok := packetID(m.Data[4:]); ok {
				select {
				case q.pend <- pending{id: id, due: now.Add(q.delay)}:
				case <-q.stop:
					return
				}
			}
		}
	}
}

// release accepts each packet when it is due; the delay is the same for
// all, so they are due in the order they came.
func (q *delayQueue) release(num uint16) {
	defer q.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var p pending
		select {
		case p = <-q.pend:
		case <-q.stop:
			return
		}
		if d := time.Until(p.due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-q.stop:
				return
			}
		}
		v := make([]byte, 8)
		binary.BigEndian.PutUint32(v[0:], nfAccept)
		binary.BigEndian.PutUint32(v[4:], p.id)
		q.send(nfqnlMsgVerdict, num, attr(nfqaVerdictHdr, v), syscall.NLM_F_REQUEST, 0)
		q.count.Add(1)
	}
}

// close stops the queue; packets still held pass (the queue is unbound
// when its socket closes, and the rule bypasses a queue nobody holds).
func (q *delayQueue) close() {
	q.once.Do(func() {
		close(q.stop)
		q.wg.Wait()
		syscall.Close(q.fd)
	})
}

// packetID finds NFQA_PACKET_HDR among a packet message's attributes.
func packetID(attrs []byte) (uint32, bool) {
	for len(attrs) >= 4 {
		l := int(binary.LittleEndian.Uint16(attrs[0:]))
		t := binary.LittleEndian.Uint16(attrs[2:]) & 0x3fff
		if l < 4 || l > len(attrs) {
			return 0, false
		}
		if t == nfqaPacketHdr && l >= 8 {
			return binary.BigEndian.Uint32(attrs[4:]), true
		}
		attrs = attrs[min((l+3)&^3, len(attrs)):]
	}
	return 0, false
}

// attr encodes one netlink attribute, padded to 4 bytes.
func attr(typ uint16, data []byte) []byte {
	b := make([]byte, 4, 4+len(data)+3)
	binary.LittleEndian.PutUint16(b[0:], uint16(4+len(data)))
	binary.LittleEndian.PutUint16(b[2:], typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func be32(v uint32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, v)
	return b
}
