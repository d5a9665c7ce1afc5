package dev.armdb.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One RESP client connection on an event loop: reads what the socket has, executes every whole request in it, and
 * writes the replies in one go, so a pipeline of N requests costs one read and one write. Replies the socket does not
 * take at once stop reading until they drain (back-pressure). A command that may wait runs on a virtual thread while
 * the connection is paused, so it never stalls the loop's other clients. Owned by its event loop's thread.
 *
 * <p>Memory: the input buffer starts small and grows (doubling) only when bytes that arrived fill it, up to the
 * client's query buffer limit and only with room reserved from the node's {@link BufferBudget}; the reply buffer is
 * bounded the same way (see {@link RespWriter}). A malformed request, or one beyond a limit, gets an error reply and
 * ends this connection only; replies beyond the limit end it without a reply.
 *
 * <p>While paused the connection keeps reading (into its buffer, without executing), so it notices when the client
 * hangs up: a waiting {@code WAIT} is then interrupted and the connection's place is released at once.
 *
 * <p>Held replies: when the node's {@link WriteGate#holdsReplies() gate} says so (cluster mode: writes are acknowledged
 * only once the in-sync replicas hold them), replies are not written while a write this client made has not been
 * acknowledged. The connection parks as a paused one does, without a thread: the gate calls back when the writes of
 * the parked replies may be acknowledged, and they go out; if they will not be, every reply from the first such write
 * on is replaced by the gate's error (the client still gets one reply per request).
 */
final class RespConnection {
    private static final Logger LOG = LoggerFactory.getLogger(RespConnection.class);
    private static final int INITIAL_BUFFER = 16 << 10;
    /** Replies buffered past this are written before more requests are executed. */
    private static final int REPLY_HIGH_WATER = 1 << 20;

    enum State {
        /** Executing requests as they arrive. */
        READING,
        /** Replies are waiting for the socket; reading resumes when they drained. */
        DRAINING,
        /** A command that may wait runs off the loop; the connection only buffers input, to notice a hang-up. */
        PAUSED,
        /** Replies wait for the node's gate to acknowledge this client's writes; input is only buffered, as PAUSED. */
        AWAITING_ACKS,
        /** The last replies drain, then the socket closes (QUIT, protocol error). */
        CLOSING,
        CLOSED
    }

    private final RespEventLoop loop;
    private final SocketChannel channel;
    private final RespTransport transport;
    private final ClientLimits limits;
    private final BufferBudget budget;
    private final RespParser parser;
    private final RespWriter out;
    private final RespCommands commands;
    private final RespClients clients;
    private final WriteGate gate;
    /** The LSNs per shard whose acknowledgement the held replies wait for; the gate reads them until it calls back. */
    private final long[] ackLsns;
    /** What the gate calls back with its answer for the held replies. */
    private final Consumer<String> onAcknowledged;

    private SelectionKey key;
    private ByteBuffer in = ByteBuffer.allocate(INITIAL_BUFFER);
    private State state = State.READING;
    /** Whole requests may wait in the buffer: replies reached the high-water mark, or arrived while replies were held. */
    private boolean backlog;
    /** The thread running a paused connection's command, if it may be interrupted when the client goes away. */
    private Thread cancellable;
    /** Where the reply to the first write not yet acknowledged starts in the reply buffer (-1: no such write). */
    private int holdMark = -1;
    /** Replies from {@link #holdMark} on. */
    private int heldReplies;
    /** The state to return to once held replies are released (READING, or CLOSING after QUIT). */
    private State afterAcks;
    /** Where a paused command's reply starts in the reply buffer. */
    private int pausedMark;
    /** This client had unacknowledged writes before the paused command. */
    private boolean pausedAfterWrites;

    RespConnection(
            RespEventLoop loop,
            SocketChannel channel,
            RespTransport transport,
            Node node,
            ClientLimits limits,
            BufferBudget budget) {
        this.loop = loop;
        this.channel = channel;
        this.transport = transport;
        this.limits = limits;
        this.budget = budget;
        this.parser = new RespParser(limits.queryBufferBytes());
        this.out = new RespWriter(INITIAL_BUFFER, limits.replyBufferBytes(), budget);
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
        this.gate = node.gate();
        this.ackLsns = new long[node.map().config().shards()];
        // the gate calls back on any thread; the loop's task queue hands the result to the loop thread
        this.onAcknowledged = refusal -> loop.execute(() -> acknowledged(refusal));
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
        if (state == State.PAUSED || state == State.AWAITING_ACKS) {
            bufferWhilePaused();
            return;
        }
        if (state != State.READING) {
            return;
        }
        if (transport.read(in) < 0) {
            close();
            return;
        }
        process();
        if (wantsRead() && transport.hasBufferedInput()) {
            loop.readAgain(this);
        }
    }

    /**
     * True if the connection would read now: input the transport holds (decrypted TLS bytes the socket will not
     * signal again) is then read on the loop's next turn. Loop thread only.
     */
    boolean wantsRead() {
        return key != null && key.isValid() && (key.interestOps() & SelectionKey.OP_READ) != 0;
    }

    /** True while the connection is open and its transport's handshake (TLS) has not finished. Loop thread only. */
    boolean handshaking() {
        return state != State.CLOSED && transport.handshaking();
    }

    /** The socket takes bytes again. Loop thread only. */
    void onWritable() throws IOException {
        if (state != State.DRAINING && state != State.CLOSING) {
            // only the transport's own records (a TLS handshake) waited for the socket
            if (transport.flushOutput()) {
                interest(SelectionKey.OP_READ);
            }
            return;
        }
        if (!drained()) {
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
     * Keeps the pipelined bytes of a paused client for later, and notices its end of stream. A full buffer stops
     * reading until the command is done (the client is then still sending, not gone).
     */
    private void bufferWhilePaused() throws IOException {
        if (!in.hasRemaining()) {
            interest(0);
            return;
        }
        if (transport.read(in) < 0) {
            LOG.debug("client {} hung up while its command waited", remote());
            close();
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
                compactInput();
                if (state == State.READING && !backlog) {
                    growIfFull();
                }
            } catch (RespProtocolException e) {
                if (out.overLimit()) {
                    LOG.warn("client {} closed: {}", remote(), e.getMessage());
                    close();
                    return;
                }
                in.clear();
                int mark = out.mark();
                boolean unacked = commands.unackedWrites();
                out.error("ERR Protocol error: " + e.getMessage());
                noteReply(mark, unacked);
                state = State.CLOSING;
                LOG.info("client {} sent malformed RESP ({}); connection closed", remote(), e.getMessage());
            }
            if (state == State.PAUSED || state == State.CLOSED || holdForAcks()) {
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
            RespRequest request = parser.next(in);
            if (request == null) {
                return;
            }
            int mark = out.mark();
            boolean unacked = commands.unackedWrites();
            if (request.argc() == 0) {
                continue;
            }
            if (commands.executeInPlace(request)) {
                noteReply(mark, unacked);
                continue;
            }
            List<byte[]> args = request.toList();
            if (commands.mayBlock(args)) {
                pausedMark = mark;
                pausedAfterWrites = unacked;
                pauseFor(args, request.argEquals(0, "WAIT"));
                return;
            }
            if (!commands.execute(args)) {
                state = State.CLOSING;
            }
            noteReply(mark, unacked);
        }
    }

    /**
     * Keeps count of the replies that wait for acknowledgements: a request's reply began at {@code mark}, and this
     * client had unacknowledged writes before it if {@code unackedBefore}.
     */
    private void noteReply(int mark, boolean unackedBefore) {
        if (!commands.unackedWrites()) {
            return;
        }
        if (!unackedBefore) {
            holdMark = mark;
            heldReplies = 0;
        }
        if (out.mark() > mark) {
            heldReplies++;
        }
    }

    /**
     * Parks the replies if this client wrote and the gate holds replies to writes until they are acknowledged;
     * returns true if it did (nothing may be flushed then). Without a holding gate, forgets the writes and returns
     * false.
     */
    private boolean holdForAcks() {
        if (!commands.unackedWrites()) {
            return false;
        }
        commands.takeUnackedWrites(ackLsns);
        if (!gate.holdsReplies()) {
            holdMark = -1;
            return false;
        }
        afterAcks = state;
        state = State.AWAITING_ACKS;
        interest(SelectionKey.OP_READ);
        gate.awaitAcknowledged(ackLsns, onAcknowledged);
        return true;
    }

    /**
     * The gate's answer for the held replies (loop thread): null releases them; an error line replaces every reply
     * from the first unacknowledged write on, one error per reply. Then the connection goes on where it stopped.
     */
    private void acknowledged(String refusal) {
        if (state != State.AWAITING_ACKS) {
            // closed while waiting: the replies were never to be sent
            return;
        }
        if (refusal != null && holdMark >= 0) {
            out.truncate(holdMark);
            for (int i = 0; i < heldReplies; i++) {
                out.error(refusal);
            }
        }
        holdMark = -1;
        heldReplies = 0;
        state = afterAcks;
        try {
            if (state != State.READING) {
                flush();
            } else {
                // the released replies go out before the requests that arrived meanwhile run (they may be held again)
                backlog = true;
                if (flush()) {
                    process();
                }
            }
        } catch (IOException e) {
            LOG.debug("client {} connection error: {}", remote(), e.toString());
            close();
        } catch (Throwable e) {
            RespEventLoop.closeAfter(this, e);
        }
    }

    /** Moves a partial request to the buffer's start; a buffer that starts with it already is left in place. */
    private void compactInput() {
        if (in.position() == 0) {
            // compact() would copy the whole partial request on every read: quadratic for one fed a byte at a time
            in.position(in.limit()).limit(in.capacity());
        } else {
            in.compact();
        }
    }

    /**
     * Runs a command that may wait on a virtual thread. Only a WAIT is interrupted if the client hangs up: it waits
     * on a monitor, while other commands (writes forcing files, role changes) must not be cut short by an interrupt.
     */
    private void pauseFor(List<byte[]> args, boolean interruptible) {
        state = State.PAUSED;
        Thread t = Thread.ofVirtual().name("armdb-resp-blocking").unstarted(() -> runPaused(args));
        cancellable = interruptible ? t : null;
        interest(SelectionKey.OP_READ);
        t.start();
    }

    private void runPaused(List<byte[]> args) {
        boolean keepOpen;
        try {
            keepOpen = commands.execute(args);
        } catch (Throwable e) {
            // never leave the connection paused: close it
            LOG.warn("client {}: command failed unexpectedly; connection closed", remote(), e);
            keepOpen = false;
        }
        boolean open = keepOpen;
        // the loop's task queue publishes the replies written here to the loop thread
        loop.execute(() -> resume(open));
    }

    private void resume(boolean keepOpen) {
        cancellable = null;
        if (state == State.CLOSED) {
            // the client left while the command ran; its replies were never to be sent
            out.releaseBuffer();
            return;
        }
        if (state != State.PAUSED) {
            return;
        }
        if (out.overLimit()) {
            LOG.warn("client {} closed: its replies exceed the reply buffer limit", remote());
            close();
            return;
        }
        state = keepOpen ? State.READING : State.CLOSING;
        noteReply(pausedMark, pausedAfterWrites);
        try {
            if (keepOpen) {
                process();
            } else if (!holdForAcks()) {
                flush();
            }
        } catch (IOException e) {
            LOG.debug("client {} connection error: {}", remote(), e.toString());
            close();
        } catch (Throwable e) {
            RespEventLoop.closeAfter(this, e);
        }
    }

    /** Doubles a full input buffer holding part of a request, within the client's limit and the node's budget. */
    private void growIfFull() {
        if (in.hasRemaining()) {
            return;
        }
        int capacity = in.capacity();
        if (capacity >= limits.queryBufferBytes()) {
            throw new RespProtocolException(
                    "a request exceeds the client query buffer limit of " + limits.queryBufferBytes() + " bytes");
        }
        int bigger = (int) Math.min((long) capacity * 2, limits.queryBufferBytes());
        if (!budget.tryReserve(bigger - capacity)) {
            throw new RespProtocolException("the node's client buffers are full (" + budget.limit() + " bytes)");
        }
        ByteBuffer grown = ByteBuffer.allocate(bigger);
        in.flip();
        grown.put(in);
        in = grown;
    }

    /** Replaces an empty grown input buffer with a small one, giving back the room it reserved. */
    private void shrinkInput() {
        if (in.capacity() > INITIAL_BUFFER) {
            budget.release(in.capacity() - INITIAL_BUFFER);
            in = ByteBuffer.allocate(INITIAL_BUFFER);
        }
    }

    /** Writes pending replies; true if they all went out (reading resumes), false if the socket is full. */
    private boolean flush() throws IOException {
        if (!drained()) {
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
        if (in.position() == 0) {
            shrinkInput();
        }
        interest(SelectionKey.OP_READ);
        return true;
    }

    /** Writes pending replies and the transport's own records; true when nothing is left to send. */
    private boolean drained() throws IOException {
        return out.drainTo(transport) && transport.flushOutput();
    }

    private void interest(int ops) {
        // each change is queued for the selector under a lock; most calls change nothing
        if (key.interestOps() != ops) {
            key.interestOps(ops);
        }
        if ((ops & SelectionKey.OP_READ) != 0 && transport.hasBufferedInput()) {
            loop.readAgain(this);
        }
    }

    /**
     * Closes the socket and gives back the connection's place and buffers; a waiting WAIT is interrupted. Idempotent.
     * Loop thread only (or the loop's shutdown).
     */
    void close() {
        if (state == State.CLOSED) {
            return;
        }
        boolean paused = state == State.PAUSED;
        // a connection awaiting acknowledgements has no other writer of its replies: they are dropped now
        state = State.CLOSED;
        if (cancellable != null) {
            cancellable.interrupt();
            cancellable = null;
        }
        if (key != null) {
            key.cancel();
        }
        try {
            transport.close();
        } catch (IOException ignored) {
            // already gone
        }
        shrinkInput();
        if (!paused) {
            // a paused command still writes replies; resume() gives the reply buffer back when it ends
            out.releaseBuffer();
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
