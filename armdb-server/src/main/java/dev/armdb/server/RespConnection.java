package dev.armdb.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One RESP client connection on an event loop: reads what the socket has, executes every whole request in it, and
 * writes the replies in one go, so a pipeline of N requests costs one read and one write. Replies the socket does not
 * take at once stop reading until they drain (back-pressure). A command that may wait runs on a virtual thread while
 * the connection is paused, so it never stalls the loop's other clients. Owned by its event loop's thread.
 *
 * <p>A malformed request gets an error reply and ends this connection only.
 */
final class RespConnection {
    private static final Logger LOG = LoggerFactory.getLogger(RespConnection.class);
    private static final int INITIAL_BUFFER = 16 << 10;
    /** Replies buffered past this are written before more requests are executed. */
    private static final int REPLY_HIGH_WATER = 1 << 20;
    /** Largest input buffer: one request of the largest bulk string plus its framing. */
    private static final int MAX_INPUT = RespParser.MAX_BULK + (1 << 20);

    enum State {
        /** Executing requests as they arrive. */
        READING,
        /** Replies are waiting for the socket; reading resumes when they drained. */
        DRAINING,
        /** A command that may wait runs off the loop; the connection neither reads nor writes. */
        PAUSED,
        /** The last replies drain, then the socket closes (QUIT, protocol error). */
        CLOSING,
        CLOSED
    }

    private final RespEventLoop loop;
    private final SocketChannel channel;
    private final RespParser parser = new RespParser();
    private final RespWriter out = new RespWriter(INITIAL_BUFFER);
    private final RespCommands commands;
    private final RespClients clients;
    private SelectionKey key;
    private ByteBuffer in = ByteBuffer.allocate(INITIAL_BUFFER);
    private State state = State.READING;
    /** Whole requests were left in the buffer because replies reached the high-water mark. */
    private boolean backlog;

    RespConnection(RespEventLoop loop, SocketChannel channel, Node node) {
        this.loop = loop;
        this.channel = channel;
        RespClients clients = node.respClients();
        RespClient client = new RespClient(
                clients.nextId(),
                address(channel, true),
                address(channel, false),
                node.config().requirePass() == null,
                () -> loop.execute(this::close));
        this.commands = new RespCommands(node, out, client);
        clients.added(client);
        this.clients = clients;
    }

    /** Registers with the loop's selector for reads. Loop thread only. */
    void register(SelectionKey key) {
        this.key = key;
    }

    State state() {
        return state;
    }

    /** The socket has bytes (or an end of stream). Loop thread only. */
    void onReadable() throws IOException {
        if (state != State.READING) {
            return;
        }
        if (channel.read(in) < 0) {
            close();
            return;
        }
        process();
    }

    /** The socket takes bytes again. Loop thread only. */
    void onWritable() throws IOException {
        if (state != State.DRAINING && state != State.CLOSING) {
            return;
        }
        if (!out.drainTo(channel)) {
            return;
        }
        if (state == State.CLOSING) {
            close();
            return;
        }
        state = State.READING;
        if (backlog) {
            process();
        } else {
            interest(SelectionKey.OP_READ);
        }
    }

    /**
     * Executes the buffered requests and writes their replies; repeats while requests were held back only because
     * replies reached the high-water mark and the socket took them all.
     */
    private void process() throws IOException {
        do {
            in.flip();
            try {
                executeBuffered();
                in.compact();
                if (state == State.READING) {
                    growIfFull();
                }
            } catch (RespProtocolException e) {
                in.clear();
                out.error("ERR Protocol error: " + e.getMessage());
                state = State.CLOSING;
                LOG.info("client {} sent malformed RESP ({}); connection closed", remote(), e.getMessage());
            }
            if (state == State.PAUSED) {
                return;
            }
        } while (flush() && backlog && state == State.READING);
    }

    private void executeBuffered() {
        backlog = false;
        while (state == State.READING) {
            if (out.pending() >= REPLY_HIGH_WATER) {
                backlog = true;
                return;
            }
            List<byte[]> args = parser.next(in);
            if (args == null) {
                return;
            }
            if (args.isEmpty()) {
                continue;
            }
            if (commands.mayBlock(args)) {
                pauseFor(args);
                return;
            }
            if (!commands.execute(args)) {
                state = State.CLOSING;
            }
        }
    }

    private void pauseFor(List<byte[]> args) {
        state = State.PAUSED;
        interest(0);
        Thread.ofVirtual().name("armdb-resp-blocking").start(() -> {
            boolean keepOpen;
            try {
                keepOpen = commands.execute(args);
            } catch (RuntimeException e) {
                // never leave the connection paused: answer, then close it
                LOG.warn("client {}: command failed unexpectedly", remote(), e);
                out.error("ERR internal error: " + e);
                keepOpen = false;
            }
            boolean open = keepOpen;
            // the loop's task queue publishes the replies written here to the loop thread
            loop.execute(() -> resume(open));
        });
    }

    private void resume(boolean keepOpen) {
        if (state != State.PAUSED) {
            return;
        }
        state = keepOpen ? State.READING : State.CLOSING;
        try {
            if (keepOpen) {
                process();
            } else {
                flush();
            }
        } catch (IOException e) {
            LOG.debug("client {} connection error: {}", remote(), e.toString());
            close();
        }
    }

    private void growIfFull() {
        long needed = parser.needed();
        if (in.hasRemaining() && needed <= in.capacity()) {
            return;
        }
        long want = Math.max(needed, (long) in.capacity() * 2);
        if (in.capacity() >= MAX_INPUT) {
            throw new RespProtocolException("a request exceeds " + MAX_INPUT + " bytes");
        }
        ByteBuffer bigger = ByteBuffer.allocate((int) Math.min(want, MAX_INPUT));
        in.flip();
        bigger.put(in);
        in = bigger;
    }

    /** Writes pending replies; true if they all went out (reading resumes), false if the socket is full. */
    private boolean flush() throws IOException {
        if (!out.drainTo(channel)) {
            if (state == State.READING) {
                state = State.DRAINING;
            }
            interest(SelectionKey.OP_WRITE);
            return false;
        }
        if (state == State.CLOSING) {
            close();
            return false;
        }
        if (state == State.DRAINING) {
            state = State.READING;
        }
        if (in.position() == 0 && in.capacity() > INITIAL_BUFFER) {
            in = ByteBuffer.allocate(INITIAL_BUFFER);
        }
        interest(SelectionKey.OP_READ);
        return true;
    }

    private void interest(int ops) {
        // each change is queued for the selector under a lock; most calls change nothing
        if (key.interestOps() != ops) {
            key.interestOps(ops);
        }
    }

    /** Closes the socket; idempotent. Loop thread only (or the loop's shutdown). */
    void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (key != null) {
            key.cancel();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // already gone
        }
        clients.removed(commands.client());
        loop.forget(this);
    }

    private static java.net.InetSocketAddress address(SocketChannel ch, boolean remote) {
        try {
            return (java.net.InetSocketAddress) (remote ? ch.getRemoteAddress() : ch.getLocalAddress());
        } catch (IOException e) {
            return null;
        }
    }

    private Object remote() {
        try {
            return channel.getRemoteAddress();
        } catch (IOException e) {
            return "(closed)";
        }
    }
}
