package dev.armdb.server;

import dev.armdb.changes.DeferredWakeups;
import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event-loop thread of the RESP front-end: a selector over its share of the client connections, which it reads,
 * executes and answers in turn, as Redis does, so a request costs no thread hand-off. Other threads talk to it only
 * through {@link #execute} (and {@link #adopt}, {@link #close}), which queue a task and wake the selector.
 *
 * <p>A TLS connection that has not finished its handshake {@link RespTlsTransport#HANDSHAKE_TIMEOUT} after the loop
 * adopted it is closed ({@link HandshakeDeadlines}); the selector wakes for the next such deadline.
 *
 * <p>Failure containment: anything thrown while serving one connection, {@link Error}s such as {@link
 * OutOfMemoryError} and {@link StackOverflowError} included, closes that connection only (logged once) and the loop
 * goes on. If the loop itself ever stops (its selector failed), {@link #isRunning()} turns false so the acceptor
 * stops handing it clients, and tasks queued after it stopped are run by their caller so a client handed over in
 * that moment is closed and counted out, never leaked.
 */
final class RespEventLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RespEventLoop.class);

    private final Node node;
    private final RespServer server;
    private final Selector selector;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Set<RespConnection> connections = new HashSet<>();
    /** Connections whose transport holds input the selector will not report (TLS bytes read from the socket). */
    private final Set<RespConnection> readAgain = new LinkedHashSet<>();

    private final HandshakeDeadlines handshakes = new HandshakeDeadlines(RespTlsTransport.HANDSHAKE_TIMEOUT);

    /**
     * {@link #dispatch}, bound once: a method reference written in the loop is a new object every pass, and a loop
     * that polls between requests passes thousands of times a second; on a fresh heap each new page of those objects
     * cost the loop a page fault.
     */
    private final Consumer<SelectionKey> dispatcher = this::dispatch;
    /** When this pass found its first ready socket; 0 until it does. Loop thread only. */
    private long readyAt;

    private final Thread thread;
    private volatile boolean closed;
    private volatile boolean stopped;

    RespEventLoop(Node node, RespServer server, String name) throws IOException {
        this.node = node;
        this.server = server;
        this.selector = Selector.open();
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    /** True while the loop serves its clients: started, not closed, not stopped by a failure. Any thread. */
    boolean isRunning() {
        return thread.isAlive() && !stopped && !closed;
    }

    /** The loop thread's name. */
    String name() {
        return thread.getName();
    }

    /** Hands a freshly accepted client to this loop. Any thread. */
    void adopt(SocketChannel channel) {
        execute(() -> register(channel));
    }

    /** Runs {@code task} on the loop thread soon; once the loop has stopped, on the caller's thread. Any thread. */
    void execute(Runnable task) {
        tasks.add(task);
        selector.wakeup();
        if (stopped) {
            runTasksAfterStop();
        }
    }

    /** Has {@code c} read again on the loop's next turn, as if its socket were readable. Loop thread only. */
    void readAgain(RespConnection c) {
        readAgain.add(c);
    }

    /** Drops a closed connection. Loop thread only. */
    void forget(RespConnection c) {
        readAgain.remove(c);
        if (connections.remove(c)) {
            server.clientClosed();
        }
    }

    private void register(SocketChannel channel) {
        RespTransport transport;
        try {
            transport = server.tls() == null
                    ? RespTransport.plain(channel)
                    : new RespTlsTransport(channel, server.tls(), server.budget());
        } catch (IOException | RuntimeException e) {
            LOG.warn("refused a client: {}", e.getMessage());
            closeQuietly(channel);
            server.clientClosed();
            return;
        }
        RespConnection c = new RespConnection(this, channel, transport, node, server.limits(), server.budget());
        connections.add(c);
        try {
            channel.configureBlocking(false);
            c.register(channel.register(selector, SelectionKey.OP_READ, c));
            handshakes.add(c, System.nanoTime());
        } catch (IOException | RuntimeException e) {
            LOG.debug("registering a client failed: {}", e.toString());
            c.close();
        }
    }

    private void run() {
        // followers' sessions are woken once per pass for all of the pass's writes, not once per write
        DeferredWakeups wakeups = DeferredWakeups.installOnCurrentThread();
        RunnableTasks runnableTasks = RunnableTasks.open();
        try {
            SpinGovernor spinGovernor =
                    new SpinGovernor(runnableTasks, Runtime.getRuntime().availableProcessors());
            long spinNanos = server.spinNanos();
            long lastWork = System.nanoTime() - spinNanos;
            long lastGap = Long.MAX_VALUE;
            while (!closed) {
                long now = System.nanoTime();
                readyAt = 0;
                int served;
                if (mayBlock(readAgain.isEmpty(), now - lastWork, lastGap, spinNanos, spinGovernor, now)) {
                    served = selector.select(dispatcher, handshakes.millisToNext(now));
                } else {
                    served = selector.selectNow(dispatcher);
                    if (served == 0) {
                        // an empty poll hands the core to a task waiting for it (a follower process's applier woken
                        // onto this core, the client): polling then delays no one; alone, the loop goes on at once
                        Thread.yield();
                    }
                }
                if (served > 0) {
                    lastGap = readyAt - lastWork;
                    lastWork = System.nanoTime();
                }
                runTasks();
                readBuffered();
                handshakes.closeExpired(System.nanoTime());
                wakeups.flush();
            }
        } catch (Throwable e) {
            if (!closed) {
                LOG.error("RESP event loop {} failed; its clients are disconnected", thread.getName(), e);
            }
        } finally {
            DeferredWakeups.uninstallFromCurrentThread();
            stopped = true;
            runnableTasks.close();
            for (RespConnection c : new ArrayList<>(connections)) {
                c.close();
            }
            try {
                selector.close();
            } catch (IOException ignored) {
                // closing
            }
            // clients handed over while stopping: registering on the closed selector fails and closes them
            runTasksAfterStop();
        }
    }

    /**
     * True if the loop may sleep in its selector now: no connection has input its transport holds, and either the last
     * pass that found a ready socket ended {@code sinceWork} ago, longer than the polling time {@code spinNanos} (see
     * {@link NodeConfig#DEFAULT_IO_SPIN_MICROS}), or the socket that pass found had become ready {@code lastGap} after
     * the pass before it, at least twice the polling time: requests that far apart would not be caught by polling,
     * which would only take the CPU from the other threads. Twice, because a gap that a sleeping loop measures
     * includes its own wake-up, on a virtual machine tens of microseconds: a client that sends its next request as
     * soon as it has its reply must still find the loop polling. Every pass that served a socket, a sleeping one woken
     * by a request included, starts the polling time again; tasks and wake-ups do not. A loop that would poll asks
     * {@code governor} first, and sleeps while the machine's processors are crowded (see {@link SpinGovernor}).
     */
    static boolean mayBlock(
            boolean noBufferedInput,
            long sinceWork,
            long lastGap,
            long spinNanos,
            SpinGovernor governor,
            long nowNanos) {
        return noBufferedInput && (sinceWork >= spinNanos || lastGap >= 2 * spinNanos || !governor.maySpin(nowNanos));
    }

    private void dispatch(SelectionKey k) {
        if (readyAt == 0) {
            readyAt = System.nanoTime();
        }
        RespConnection c = (RespConnection) k.attachment();
        try {
            if (k.isValid() && k.isWritable()) {
                c.onWritable();
            }
            if (k.isValid() && k.isReadable()) {
                c.onReadable();
            }
        } catch (IOException e) {
            LOG.debug("client connection error: {}", e.toString());
            c.close();
        } catch (Throwable e) {
            closeAfter(c, e);
        }
    }

    /** Reads the connections whose transport holds input, once each (they queue themselves again if needed). */
    private void readBuffered() {
        if (readAgain.isEmpty()) {
            return;
        }
        List<RespConnection> ready = new ArrayList<>(readAgain);
        readAgain.clear();
        for (RespConnection c : ready) {
            if (!c.wantsRead()) {
                continue;
            }
            try {
                c.onReadable();
            } catch (IOException e) {
                LOG.debug("client connection error: {}", e.toString());
                c.close();
            } catch (Throwable e) {
                closeAfter(c, e);
            }
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Closes one connection after an unexpected failure, which must not reach the loop. Loop thread only. */
    static void closeAfter(RespConnection c, Throwable e) {
        // close first: logging may itself fail when the heap is exhausted
        c.close();
        if (e instanceof VirtualMachineError) {
            LOG.error("closed a client after {}; the event loop goes on", e.toString());
        } else {
            LOG.warn("closed a client after an unexpected error; the event loop goes on", e);
        }
    }

    private void runTasks() {
        Runnable t;
        while ((t = tasks.poll()) != null) {
            try {
                t.run();
            } catch (Throwable e) {
                LOG.error("a RESP event-loop task failed; the event loop goes on", e);
            }
        }
    }

    private synchronized void runTasksAfterStop() {
        runTasks();
    }

    /** Stops the loop and closes its connections; waits up to a few seconds for the thread. Any thread. */
    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
