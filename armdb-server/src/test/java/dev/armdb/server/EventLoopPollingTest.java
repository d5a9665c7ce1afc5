package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An event loop that just served requests polls its sockets for a while before it sleeps in its selector
 * ({@link NodeConfig#ioSpinMicros}): while requests keep coming it stays awake, and once they stop it sleeps, so an
 * idle node costs no CPU. The bound and the rule are checked directly; the sleeping on a real node, by the CPU time its
 * loop thread takes while no client sends anything.
 */
class EventLoopPollingTest {
    private static final long MICRO = 1_000;
    /** A governor on a machine with processors to spare: it never pauses polling. */
    private static final SpinGovernor FREE = new SpinGovernor(() -> 1, 2);

    @TempDir
    Path tmp;

    @Test
    void aLoopSleepsOnlyOnceThePollingTimeAfterItsLastServedPassIsOver() {
        long spin = 50 * MICRO;
        long close = spin / 2;
        assertThat(RespEventLoop.mayBlock(true, 0, close, spin, FREE, 0)).isFalse();
        assertThat(RespEventLoop.mayBlock(true, spin - 1, close, spin, FREE, 0)).isFalse();
        assertThat(RespEventLoop.mayBlock(true, spin, close, spin, FREE, 0)).isTrue();
        assertThat(RespEventLoop.mayBlock(true, 10 * spin, close, spin, FREE, 0))
                .isTrue();
        // input a TLS transport holds is never reported by the selector: the loop must not sleep on it
        assertThat(RespEventLoop.mayBlock(false, 10 * spin, close, spin, FREE, 0))
                .isFalse();
        assertThat(RespEventLoop.mayBlock(false, 0, 10 * spin, spin, FREE, 0)).isFalse();
        // no polling: a loop sleeps as soon as it finds nothing
        assertThat(RespEventLoop.mayBlock(true, 0, 0, 0, FREE, 0)).isTrue();
    }

    @Test
    void aLoopDoesNotPollAfterARequestThatCameTwiceThePollingTimeAfterThePreviousOne() {
        long spin = 50 * MICRO;
        assertThat(RespEventLoop.mayBlock(true, 0, 2 * spin, spin, FREE, 0)).isTrue();
        assertThat(RespEventLoop.mayBlock(true, 0, Long.MAX_VALUE, spin, FREE, 0))
                .isTrue();
        // a request seen by a loop that slept, its wake-up included: the next one may still come within the time
        assertThat(RespEventLoop.mayBlock(true, 0, 2 * spin - 1, spin, FREE, 0)).isFalse();
        assertThat(RespEventLoop.mayBlock(true, 0, spin, spin, FREE, 0)).isFalse();
    }

    @Test
    void aLoopThatWouldPollSleepsInsteadWhileItsGovernorPausesPolling() {
        long spin = 50 * MICRO;
        long close = spin / 2;
        SpinGovernor crowded = new SpinGovernor(() -> 3, 2);
        long now = 0;
        for (int i = 1; i < SpinGovernor.SAMPLES_PER_VERDICT; i++, now += SpinGovernor.SAMPLE_INTERVAL_NANOS) {
            assertThat(RespEventLoop.mayBlock(true, 0, close, spin, crowded, now))
                    .isFalse();
        }
        // the verdict's sample: crowded, so this pass already sleeps
        assertThat(RespEventLoop.mayBlock(true, 0, close, spin, crowded, now)).isTrue();
        assertThat(crowded.pauses()).isEqualTo(1);
        assertThat(RespEventLoop.mayBlock(true, 0, close, spin, crowded, now + 1))
                .isTrue();
        // input a TLS transport holds is read whatever the governor says
        assertThat(RespEventLoop.mayBlock(false, 0, close, spin, crowded, now)).isFalse();
    }

    @Test
    void thePollingTimeIsBoundedAndNeverNegative() {
        NodeConfig base = config(NodeConfig.DEFAULT_IO_SPIN_MICROS);
        assertThat(base.ioSpinMicros()).isEqualTo(NodeConfig.DEFAULT_IO_SPIN_MICROS);
        assertThat(base.withIoSpinMicros(0).ioSpinMicros()).isZero();
        assertThat(base.withIoSpinMicros(NodeConfig.MAX_IO_SPIN_MICROS).ioSpinMicros())
                .isEqualTo(NodeConfig.MAX_IO_SPIN_MICROS);
        assertThatThrownBy(() -> base.withIoSpinMicros(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ioSpinMicros must be 0 to " + NodeConfig.MAX_IO_SPIN_MICROS)
                .hasMessageContaining("got -1");
        assertThatThrownBy(() -> base.withIoSpinMicros(NodeConfig.MAX_IO_SPIN_MICROS + 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got " + (NodeConfig.MAX_IO_SPIN_MICROS + 1));
    }

    @Test
    void aLoopThatServedRequestsSleepsWhenNoMoreCome() throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        try (Node n = Node.start(config(NodeConfig.MAX_IO_SPIN_MICROS));
                RespTestClient c = new RespTestClient(n)) {
            for (int i = 0; i < 1_000; i++) {
                assertThat(c.call("SET", "key" + (10_000 + i), "value123")).isEqualTo("+OK");
            }
            Thread loop = loopThread();
            // the polling time after the last reply, and a margin for the reply's own pass
            Thread.sleep(50);
            long cpuBefore = threads.getThreadCpuTime(loop.threadId());
            long wallBefore = System.nanoTime();
            Thread.sleep(2_000);
            long cpu = threads.getThreadCpuTime(loop.threadId()) - cpuBefore;
            long wall = System.nanoTime() - wallBefore;
            // a loop that kept polling would take most of a core for the whole wait
            assertThat(cpu)
                    .as("CPU the idle loop took in %d ms: %d us", wall / 1_000_000, cpu / MICRO)
                    .isLessThan(wall / 10);
            assertThat(c.call("GET", "key10999")).isEqualTo("value123");
        }
    }

    /**
     * Requests further apart than the polling time are never caught by it: a loop that polled after each of them would
     * take the CPU for the whole polling time per request, from the node's other threads and everything else on the
     * machine, for nothing. Requests 3 ms apart with the longest polling time (1 ms): the loop's CPU time stays far
     * below the 1 ms per request that polling after each would take.
     */
    @Test
    void aLoopServingRequestsFurtherApartThanThePollingTimeDoesNotPoll() throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        try (Node n = Node.start(config(NodeConfig.MAX_IO_SPIN_MICROS));
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("SET", "key10000", "value123")).isEqualTo("+OK");
            Thread loop = loopThread();
            int requests = 100;
            long cpuBefore = threads.getThreadCpuTime(loop.threadId());
            for (int i = 0; i < requests; i++) {
                Thread.sleep(3);
                assertThat(c.call("GET", "key10000")).isEqualTo("value123");
            }
            long cpu = threads.getThreadCpuTime(loop.threadId()) - cpuBefore;
            assertThat(cpu)
                    .as("CPU the loop took for %d requests 3 ms apart: %d us", requests, cpu / MICRO)
                    .isLessThan(requests * NodeConfig.MAX_IO_SPIN_MICROS * MICRO / 4);
        }
    }

    /**
     * A loop polls its sockets thousands of times a second between requests: a pass that allocates (a method reference
     * written in the loop is a new object each time) fills the heap with garbage at that rate, and on a fresh heap
     * every new page of it costs the loop a page fault. Measured with the JVM's allocation counter of the loop thread
     * over 2,000 requests with the longest polling time, so that nearly all of the loop's passes poll.
     */
    @Test
    void aPollingLoopAllocatesNothingPerPass() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Node n = Node.start(config(NodeConfig.MAX_IO_SPIN_MICROS));
                RespTestClient c = new RespTestClient(n)) {
            for (int i = 0; i < 5_000; i++) {
                assertThat(c.call("SET", "key" + (10_000 + i % 1_000), "value123"))
                        .isEqualTo("+OK");
            }
            Thread loop = loopThread();
            long before = threads.getThreadAllocatedBytes(loop.threadId());
            long wallBefore = System.nanoTime();
            for (int i = 0; i < 2_000; i++) {
                assertThat(c.call("SET", "key" + (10_000 + i % 1_000), "value456"))
                        .isEqualTo("+OK");
            }
            long allocated = threads.getThreadAllocatedBytes(loop.threadId()) - before;
            long wall = System.nanoTime() - wallBefore;
            // 16 bytes a pass would be over a megabyte here (the loop passes about once a microsecond while it polls);
            // the bound leaves room for one-offs such as a deoptimisation's or the allocation counter's own
            assertThat(allocated)
                    .as("bytes the loop allocated over 2,000 requests in %d ms", wall / 1_000_000)
                    .isLessThan(64 << 10);
        }
    }

    private NodeConfig config(int spinMicros) {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(Durability.NONE)
                .build();
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        return new NodeConfig(tmp.resolve("n"), cfg, any, null, null, null)
                .withIoThreads(1)
                .withIoSpinMicros(spinMicros);
    }

    private static Thread loopThread() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("armdb-resp-io-0"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no thread named armdb-resp-io-0"));
    }
}
