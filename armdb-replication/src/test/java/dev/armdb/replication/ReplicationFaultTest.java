package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbException;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.FixedStore;
import dev.armdb.index.KeyHash;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.SyncRequest;
import dev.armdb.store.ShardFileLayout;
import dev.armdb.store.SlotLayout;
import dev.armdb.store.Store;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fault injection on 127.0.0.1: raw sockets speaking broken protocol to a real leader, fake leaders sending
 * broken or no frames to a real follower, mismatched collections, and a leader restart under a running follower.
 * Randomised parts print their seed; {@code -Darmdb.seed=N} repeats a run.
 */
class ReplicationFaultTest extends ClosingTest {
    static final int SHARDS = 4;
    static final int KEY_SIZE = 16;
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    static final long SEED = Long.getLong("armdb.seed", System.nanoTime());

    @BeforeAll
    static void printSeed() {
        System.out.println("ReplicationFaultTest seed " + SEED + " (repeat with -Darmdb.seed=" + SEED + ")");
    }

    // ------------------------------------------------------------------------------------------ collections

    static FixedConfig config(int valueSize, int shards) {
        return FixedConfig.builder()
                .keySize(KEY_SIZE)
                .valueSize(valueSize)
                .shards(shards)
                .durability(Durability.NONE)
                .growthStepBytes(256 << 10)
                .changeFeedCapacity(1 << 14)
                .build();
    }

    static byte[] key(int i) {
        return ByteBuffer.allocate(KEY_SIZE)
                .putInt(i)
                .putInt(i * 31)
                .putLong(~i)
                .array();
    }

    static byte[] value(int valueSize, int i, int version) {
        byte[] v = new byte[valueSize];
        ByteBuffer b = ByteBuffer.wrap(v);
        b.putInt(i).putInt(version);
        if (valueSize >= 16) {
            b.putLong(i * 7L + version);
        }
        return v;
    }

    static Map<String, String> contents(FixedStore s) {
        Map<String, String> m = new TreeMap<>();
        s.forEach((k, v) -> m.put(HexFormat.of().formatHex(k), HexFormat.of().formatHex(v)));
        return m;
    }

    /** Polls {@code condition} every 2 ms until it holds; fails after {@code timeout}, describing the state. */
    static void awaitUntil(Supplier<String> what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = 0; i < 1_000_000 && !condition.getAsBoolean(); i++) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + timeout.toMillis() + " ms for " + what.get());
            }
            LockSupport.parkNanos(2_000_000);
        }
        assertThat(condition.getAsBoolean()).as(what.get()).isTrue();
    }

    static void awaitConverged(FixedStore leader, ReplicationClient client) {
        awaitUntil(
                () -> "all shards streaming: " + client.status(),
                Duration.ofSeconds(30),
                () -> client.status().stream().allMatch(st -> st.state().equals("STREAMING")));
        for (int s = 0; s < leader.engine().shardCount(); s++) {
            long target = leader.engine().view(s).lastLsn();
            assertThat(client.awaitApplied(s, target, Duration.ofSeconds(30)))
                    .as("shard %d reaches LSN %d; status %s", s, target, client.status())
                    .isTrue();
        }
    }

    /** Replication threads of every leader in this JVM: two per open session. */
    static List<String> leaderSessionThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("armdb-repl-session") || n.startsWith("armdb-repl-ack"))
                .sorted()
                .toList();
    }

    /** SHA-256 of every file of a collection but the lock and the replica state. */
    static Map<String, String> hashFiles(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                // the lock, the replication position and the open bookkeeping (epoch ids, clean mark) are not data
                if (name.equals("db.lock")
                        || name.equals("replica.state")
                        || name.equals("db.epoch")
                        || name.equals("clean.mark")
                        || !Files.isRegularFile(p)) {
                    continue;
                }
                m.put(name, sha256(Files.readAllBytes(p)));
            }
        }
        return m;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------------------------------ wire helpers

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A whole frame: type byte, little-endian length, payload. */
    static byte[] frame(int type, byte[] payload) {
        return frame(type, payload.length, payload);
    }

    /** A frame whose header claims {@code length} whatever the payload given. */
    static byte[] frame(int type, int length, byte[] payload) {
        return le(FrameLayout.HEADER_SIZE + payload.length)
                .put((byte) type)
                .putInt(length)
                .put(payload)
                .array();
    }

    /** Reads the follower's SYNC_REQUEST frame (its length varies with the addresses it carries); the payload. */
    static ByteBuffer readSyncRequest(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        byte[] header = in.readNBytes(FrameLayout.HEADER_SIZE);
        assertThat(header[0]).isEqualTo((byte) MessageType.SYNC_REQUEST.code());
        int length =
                ByteBuffer.wrap(header, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertThat(length).isBetween(SyncRequest.FIXED_LENGTH, SyncRequest.MAX_LENGTH);
        return ByteBuffer.wrap(in.readNBytes(length)).order(ByteOrder.LITTLE_ENDIAN);
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    /** Length of a hand-made SyncRequest (no host names). */
    static final int SYNC_LEN = 120;

    /** SyncRequest payload without host names or proof, laid out by hand from the documented format. */
    static byte[] syncRequest(int version, int shard, byte[] databaseId, long fromLsn, long followerId) {
        return le(SYNC_LEN)
                .putShort((short) version)
                .putShort((short) 0)
                .putInt(shard)
                .put(databaseId)
                .putLong(fromLsn)
                .putLong(followerId)
                .putLong(0)
                .putLong(0)
                .putLong(fromLsn)
                .put(new byte[16])
                .put(new byte[8])
                .put(new byte[32])
                .array();
    }

    /** The protocol version these hand-made frames follow. */
    static final int V = 5;

    /** A leader's opening CHALLENGE frame, saying whether it requires authentication. */
    static byte[] challengeFrame(boolean authRequired) {
        return frame(
                MessageType.CHALLENGE.code(),
                le(24).putShort((short) V)
                        .putShort((short) (authRequired ? 1 : 0))
                        .putInt(0)
                        .put(new byte[16])
                        .array());
    }

    static byte[] ack(long appliedLsn, long batchSeq) {
        return le(16).putLong(appliedLsn).putLong(batchSeq).array();
    }

    /** ShardInfo payload of term 0, laid out by hand from the documented format. */
    static byte[] shardInfo(
            int shards,
            int keySize,
            int valueSize,
            int slotSize,
            int routing,
            int slotCount,
            byte[] dbId,
            long lsn,
            int mode) {
        return shardInfo(shards, keySize, valueSize, slotSize, routing, slotCount, dbId, lsn, mode, 0);
    }

    /** ShardInfo payload of leader term {@code term}, laid out by hand from the documented format. */
    static byte[] shardInfo(
            int shards,
            int keySize,
            int valueSize,
            int slotSize,
            int routing,
            int slotCount,
            byte[] dbId,
            long lsn,
            int mode,
            long term) {
        return le(112).putInt(shards)
                .putInt(keySize)
                .putInt(valueSize)
                .putInt(slotSize)
                .putInt(routing)
                .putInt(slotCount)
                .put(dbId)
                .putLong(lsn)
                .put((byte) mode)
                .put(new byte[7])
                .putLong(0x5EED)
                .putLong(term)
                .put(new byte[8])
                .put(new byte[32])
                .array();
    }

    /** A HEARTBEAT payload, laid out by hand from the documented format. */
    static byte[] heartbeat(long leaderLsn, long term) {
        return le(24).putLong(leaderLsn)
                .putLong(term)
                .putLong(System.nanoTime())
                .array();
    }

    static byte[] caughtUp(long scanned, long sent, long lsn) {
        return le(24).putLong(scanned).putLong(sent).putLong(lsn).array();
    }

    /** A valid slot image (state word, CRC32C over bytes 0..3 and 8..end, LSN, key, value, zero padding). */
    static byte[] slotImage(int status, int version, long lsn, byte[] key, byte[] value) {
        int slotSize = SlotLayout.slotSize(key.length, value.length);
        ByteBuffer b = le(slotSize);
        b.putInt(SlotLayout.STATE_OFFSET, SlotLayout.stateWord(status, version));
        b.putLong(SlotLayout.LSN_OFFSET, lsn);
        b.put(SlotLayout.KEY_OFFSET, key);
        b.put(SlotLayout.valueOffset(key.length), value);
        byte[] image = b.array();
        CRC32C crc = new CRC32C();
        crc.update(image, 0, SlotLayout.CRC_OFFSET);
        crc.update(image, SlotLayout.LSN_OFFSET, slotSize - SlotLayout.LSN_OFFSET);
        b.putInt(SlotLayout.CRC_OFFSET, (int) crc.getValue());
        return image;
    }

    /** A SLOT_BATCH payload whose count field says {@code count}, with the given (slot id, image) entries. */
    static byte[] slotBatch(long seq, long upTo, int count, int[] slots, byte[][] images) {
        int n = 20;
        for (byte[] img : images) {
            n += 4 + img.length;
        }
        ByteBuffer b = le(n).putLong(seq).putLong(upTo).putInt(count);
        for (int i = 0; i < slots.length; i++) {
            b.putInt(slots[i]).put(images[i]);
        }
        return b.array();
    }

    /** A frame read off the wire. */
    record Frame(int type, byte[] payload) {
        ByteBuffer buf() {
            return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        }

        boolean is(MessageType t) {
            return type == t.code();
        }

        int errorCode() {
            assertThat(is(MessageType.ERROR))
                    .as("ERROR frame, got type %d", type)
                    .isTrue();
            return Short.toUnsignedInt(buf().getShort(0));
        }

        String errorMessage() {
            ByteBuffer b = buf();
            int n = Short.toUnsignedInt(b.getShort(2));
            assertThat(n).as("ERROR message length").isEqualTo(payload.length - 4);
            return new String(payload, 4, n, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return is(MessageType.ERROR)
                    ? "ERROR(" + ErrorCode.ofCode(errorCode()) + ": " + errorMessage() + ")"
                    : "frame(type " + type + ", " + payload.length + " bytes)";
        }
    }

    /** How a connection ended as seen by the reader. */
    enum End {
        EOF,
        RESET,
        TIMEOUT
    }

    /** What a reader saw until the connection ended (or the time ran out). */
    record Outcome(List<Frame> frames, End end) {
        Frame last() {
            assertThat(frames).as("frames received").isNotEmpty();
            return frames.getLast();
        }

        /** The first ERROR frame (a session may still have a frame in flight when its reader fails). */
        Frame error() {
            return frames.stream()
                    .filter(f -> f.is(MessageType.ERROR))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no ERROR frame among " + frames));
        }
    }

    /**
     * Reads whole frames until end of stream, a reset or the deadline; at most {@code maxFrames}. A leader opens
     * every session with a CHALLENGE frame; it is left out of the outcome.
     */
    static Outcome drain(Socket socket, Duration max, int maxFrames) throws IOException {
        InputStream in = socket.getInputStream();
        long deadline = System.nanoTime() + max.toNanos();
        List<Frame> frames = new ArrayList<>();
        try {
            for (int i = 0; i < maxFrames; i++) {
                byte[] header = new byte[FrameLayout.HEADER_SIZE];
                if (!readFully(socket, in, header, deadline, true)) {
                    return new Outcome(frames, End.EOF);
                }
                int type = header[0] & 0xFF;
                int length = ByteBuffer.wrap(header, 1, 4)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .getInt();
                assertThat(length).as("frame length from peer").isBetween(0, FrameLayout.MAX_PAYLOAD);
                byte[] payload = new byte[length];
                readFully(socket, in, payload, deadline, false);
                if (i == 0 && type == MessageType.CHALLENGE.code()) {
                    continue;
                }
                frames.add(new Frame(type, payload));
            }
            throw new AssertionError("more than " + maxFrames + " frames: " + frames.getLast());
        } catch (SocketTimeoutException e) {
            return new Outcome(frames, End.TIMEOUT);
        } catch (SocketException e) {
            return new Outcome(frames, End.RESET);
        }
    }

    /** Fills {@code buf}; false on a clean end of stream before the first byte when {@code eofOk}. */
    private static boolean readFully(Socket socket, InputStream in, byte[] buf, long deadline, boolean eofOk)
            throws IOException {
        int at = 0;
        while (at < buf.length) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new SocketTimeoutException("deadline");
            }
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
            int n = in.read(buf, at, buf.length - at);
            if (n < 0) {
                if (at == 0 && eofOk) {
                    return false;
                }
                throw new EOFException("truncated frame: " + at + " of " + buf.length + " bytes");
            }
            at += n;
        }
        return true;
    }

    static Socket connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        s.connect(address, 2_000);
        s.setTcpNoDelay(true);
        return s;
    }

    /** Opens a connection, sends {@code bytes}, optionally half-closes, and reads until the leader ends it. */
    static Outcome exchange(InetSocketAddress leader, byte[] bytes, boolean halfClose, Duration max)
            throws IOException {
        try (Socket s = connect(leader)) {
            OutputStream out = s.getOutputStream();
            out.write(bytes);
            out.flush();
            if (halfClose) {
                s.shutdownOutput();
            }
            return drain(s, max, 100_000);
        }
    }

    /** Asserts the leader answered with exactly one ERROR frame of {@code code} and then closed cleanly. */
    static void assertRefused(Outcome o, ErrorCode code, String messagePart) {
        assertThat(o.end())
                .as("connection closed by the leader after %s", o.frames())
                .isEqualTo(End.EOF);
        assertThat(o.frames()).as("frames").hasSize(1);
        assertThat(o.last().errorCode()).as("error code of %s", o.last()).isEqualTo(code.code());
        assertThat(o.last().errorMessage()).contains(messagePart);
    }

    /** A ServerSocket on loopback posing as a leader; hands out the connections it accepts. */
    static final class FakeLeader implements AutoCloseable {
        final ServerSocket server;
        final BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
        final List<Socket> all = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger attempts = new AtomicInteger();
        final Thread acceptor;

        FakeLeader() throws IOException {
            this(false);
        }

        /** A fake leader whose Challenge says {@code authRequired} (it cannot prove any secret). */
        FakeLeader(boolean authRequired) throws IOException {
            server = new ServerSocket(0, 50, LOOPBACK);
            acceptor = Thread.ofPlatform().daemon().name("fake-leader-accept").start(() -> {
                for (int i = 0; i < 10_000 && !server.isClosed(); i++) {
                    try {
                        Socket s = server.accept();
                        s.getOutputStream().write(challengeFrame(authRequired));
                        attempts.incrementAndGet();
                        all.add(s);
                        accepted.add(s);
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        InetSocketAddress address() {
            return new InetSocketAddress(LOOPBACK, server.getLocalPort());
        }

        Socket next(Duration timeout) throws InterruptedException {
            Socket s = accepted.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(s)
                    .as("a connection from the follower within %s", timeout)
                    .isNotNull();
            return s;
        }

        @Override
        public void close() throws Exception {
            server.close();
            synchronized (all) {
                for (Socket s : all) {
                    s.close();
                }
            }
            acceptor.join(5_000);
        }
    }

    // ------------------------------------------------------------------------------------------ 1. handshake

    @Test
    void handshakeWithAnotherProtocolVersionOrABadShardIsRefusedWithAnErrorAndClosed() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, SHARDS)));
        for (int i = 0; i < 1000; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        Duration max = Duration.ofSeconds(5);

        Outcome version = exchange(server.address(), frame(1, syncRequest(99, 0, new byte[16], 0, 7)), false, max);
        assertRefused(version, ErrorCode.PROTOCOL_VERSION, "this side speaks " + V + ", the follower 99");

        Outcome shard999 = exchange(server.address(), frame(1, syncRequest(V, 999, new byte[16], 0, 7)), false, max);
        assertRefused(shard999, ErrorCode.INVALID_SHARD, "999");

        Outcome negative = exchange(server.address(), frame(1, syncRequest(V, -1, new byte[16], 0, 7)), false, max);
        assertRefused(negative, ErrorCode.INVALID_SHARD, "-1");

        assertThat(server.metrics().protocolErrors.sum()).isEqualTo(3);
        awaitUntil(
                () -> "refused sessions forgotten",
                Duration.ofSeconds(5),
                () -> server.status().isEmpty());
        // the leader still serves a good handshake after refusing bad ones
        try (Socket s = connect(server.address())) {
            s.getOutputStream().write(frame(1, syncRequest(V, 2, new byte[16], 0, 8)));
            Outcome o = drain(s, Duration.ofMillis(500), 10_000);
            assertThat(o.frames()).isNotEmpty();
            assertThat(o.frames().getFirst().is(MessageType.SHARD_INFO))
                    .as("%s", o.frames())
                    .isTrue();
            assertThat(o.frames().getFirst().buf().getInt(0)).as("shard count").isEqualTo(SHARDS);
        }
    }

    // ------------------------------------------------------------------------------------------ 2. fuzz

    @Test
    void malformedConnectionsAreRefusedAndLeakNothingWhileAGoodFollowerStreams() throws Exception {
        Random rnd = new Random(SEED);
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, SHARDS)));
        for (int i = 0; i < 20_000; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServerConfig scfg =
                ReplicationServerConfig.defaults().withTimeouts(Duration.ofMillis(100), Duration.ofMillis(1500));
        ReplicationServer server = track(ReplicationServer.start(leader, scfg));
        InetSocketAddress addr = server.address();
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, SHARDS)));
        ReplicationClient client = track(ReplicationClient.start(
                follower,
                addr,
                ReplicationClientConfig.defaults().withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(5))));
        awaitConverged(leader, client);
        List<String> baseline = leaderSessionThreads();

        AtomicBoolean stop = new AtomicBoolean();
        Random writes = new Random(SEED + 1);
        Thread writer = Thread.ofPlatform().name("fault-test-writer").start(() -> {
            for (int n = 0; n < 3000 && !stop.get(); n++) {
                for (int j = 0; j < 20; j++) {
                    int i = writes.nextInt(25_000);
                    if (j % 7 == 0) {
                        leader.delete(key(i));
                    } else {
                        leader.put(key(i), value(32, i, n));
                    }
                }
                LockSupport.parkNanos(2_000_000);
            }
        });

        Duration max = Duration.ofSeconds(5);
        long errorsBefore = server.metrics().protocolErrors.sum();
        int certainErrors = 0;
        int randomConnections = 0;
        int randomErrorsSeen = 0;
        int[] oversize = {0x7FFFFFFF, 0xFFFFFFFF, FrameLayout.MAX_PAYLOAD + 1};
        int[] unknownTypes = {200, 0, 9, 255};
        int[] badAckLengths = {15, 17, 0};
        int[] badSyncLengths = {SYNC_LEN - 1, SYNC_LEN + 1, 0, SyncRequest.MAX_LENGTH + 1};
        for (int round = 0; round < 6; round++) {
            // random bytes; a leading SYNC_REQUEST type never carries the current version
            for (int k = 0; k < 4; k++) {
                byte[] junk = new byte[1 + rnd.nextInt(300)];
                rnd.nextBytes(junk);
                if (junk.length > 5) {
                    junk[5] = (byte) 0xEE;
                }
                Outcome o = exchange(addr, junk, true, max);
                randomConnections++;
                assertThat(o.end())
                        .as(
                                "random bytes %s: leader ends the connection",
                                HexFormat.of().formatHex(junk))
                        .isIn(End.EOF, End.RESET);
                if (!o.frames().isEmpty()) {
                    assertThat(o.frames()).hasSize(1);
                    assertThat(ErrorCode.ofCode(o.last().errorCode()))
                            .isIn(ErrorCode.MALFORMED, ErrorCode.PROTOCOL_VERSION, ErrorCode.INVALID_SHARD);
                    randomErrorsSeen++;
                }
            }

            // a header whose length the leader must refuse before reading (or allocating) anything
            int len = oversize[round % oversize.length];
            Outcome big = exchange(addr, frame(1, len, new byte[0]), false, max);
            assertRefused(big, ErrorCode.MALFORMED, Integer.toUnsignedString(len));
            certainErrors++;

            int type = unknownTypes[round % unknownTypes.length];
            Outcome unknown = exchange(addr, frame(type, new byte[0]), false, max);
            assertRefused(unknown, ErrorCode.MALFORMED, "unknown frame type " + type);
            certainErrors++;

            // a truncated frame, then the end of the stream: the leader closes without applying anything
            byte[] partial = Arrays.copyOf(syncRequest(V, 0, new byte[16], 0, 1), rnd.nextInt(SYNC_LEN));
            Outcome truncated = exchange(addr, frame(1, SYNC_LEN, partial), true, max);
            assertThat(truncated.end()).isEqualTo(End.EOF);
            assertThat(truncated.frames()).isEmpty();

            // a good handshake, then an ACK of the wrong length
            int ackLen = badAckLengths[round % badAckLengths.length];
            int shard = rnd.nextInt(SHARDS);
            Outcome badAck = exchange(
                    addr,
                    concat(frame(1, syncRequest(V, shard, new byte[16], 0, 100 + round)), frame(5, new byte[ackLen])),
                    false,
                    max);
            assertThat(badAck.end()).as("bad ack: %s", badAck.frames()).isEqualTo(End.EOF);
            assertThat(badAck.frames().getFirst().is(MessageType.SHARD_INFO)).isTrue();
            assertThat(badAck.error().errorCode()).isEqualTo(ErrorCode.MALFORMED.code());
            assertThat(badAck.error().errorMessage())
                    .containsAnyOf(
                            "ACK payload must be 16 bytes, got " + ackLen,
                            "ACK frame length must be 0..16, got " + ackLen);
            certainErrors++;

            // a SYNC_REQUEST of the wrong length as first frame
            int syncLen = badSyncLengths[round % badSyncLengths.length];
            byte[] body = Arrays.copyOf(syncRequest(V, 0, new byte[16], 0, 1), syncLen);
            Outcome badSync = exchange(addr, frame(1, body), false, max);
            assertRefused(
                    badSync,
                    ErrorCode.MALFORMED,
                    syncLen > SyncRequest.MAX_LENGTH
                            ? "SYNC_REQUEST frame length must be 0.." + SyncRequest.MAX_LENGTH + ", got " + syncLen
                            : syncLen < SYNC_LEN
                                    ? "SYNC_REQUEST payload must be at least " + SYNC_LEN + " bytes, got " + syncLen
                                    : "SYNC_REQUEST payload must be 32 bytes, got 33");
            certainErrors++;

            // another frame type where the SYNC_REQUEST must come first
            Outcome ackFirst = exchange(addr, frame(5, ack(1, 1)), false, max);
            assertRefused(ackFirst, ErrorCode.MALFORMED, "expected SYNC_REQUEST as first frame, got ACK");
            certainErrors++;

            // a good handshake, then a frame only a leader may send
            Outcome leaderFrame = exchange(
                    addr,
                    concat(
                            frame(1, syncRequest(V, shard, new byte[16], 0, 200 + round)),
                            frame(3, slotBatch(1, 0, 0, new int[0], new byte[0][]))),
                    false,
                    max);
            assertThat(leaderFrame.end()).as("%s", leaderFrame.frames()).isEqualTo(End.EOF);
            assertThat(leaderFrame.error().errorCode()).isEqualTo(ErrorCode.MALFORMED.code());
            assertThat(leaderFrame.error().errorMessage()).contains("unexpected SLOT_BATCH from a follower");
            certainErrors++;
        }

        // slow or stalled connections that never finish their first frame: dropped after the peer timeout
        List<Socket> stalled = new ArrayList<>();
        try {
            byte[][] stalls = {
                new byte[0], {1, 40}, frame(1, 40, new byte[10]), frame(1, FrameLayout.MAX_PAYLOAD, new byte[0])
            };
            for (byte[] b : stalls) {
                Socket s = track(connect(addr));
                s.getOutputStream().write(b);
                stalled.add(s);
            }
            for (Socket s : stalled) {
                Outcome o = drain(s, Duration.ofSeconds(6), 10);
                assertThat(o.end())
                        .as("stalled connection dropped: %s", o.frames())
                        .isEqualTo(End.EOF);
                for (Frame f : o.frames()) {
                    assertThat(f.errorCode()).isIn(ErrorCode.TIMEOUT.code(), ErrorCode.MALFORMED.code());
                }
            }
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }

        awaitUntil(
                () -> "leader threads back to the good follower's " + baseline + ", now " + leaderSessionThreads(),
                Duration.ofSeconds(5),
                () -> leaderSessionThreads().size() <= baseline.size());
        awaitUntil(
                () -> "only the good follower's sessions remain: " + server.status(),
                Duration.ofSeconds(5),
                () -> server.status().size() == SHARDS);
        long errors = server.metrics().protocolErrors.sum() - errorsBefore;
        System.out.printf(
                "fuzz: %d certain refusals, %d random connections (%d answered with an error), %d protocol errors%n",
                certainErrors, randomConnections, randomErrorsSeen, errors);
        // stalled connections may count too: a frame that stalls past the timeout is a protocol error (TIMEOUT)
        assertThat(errors)
                .isBetween((long) certainErrors + randomErrorsSeen, (long) certainErrors + randomConnections + 4);

        stop.set(true);
        writer.join(30_000);
        assertThat(writer.isAlive()).isFalse();
        awaitConverged(leader, client);
        assertThat(contents(follower)).isEqualTo(contents(leader));
        assertThat(client.status())
                .as("the good follower was never disturbed")
                .extracting(ShardStatus::lastError)
                .containsOnly("");
    }

    // ------------------------------------------------------------------------------------------ 3. fake leader

    /** A bad SLOT_BATCH and the words the follower's error must contain. */
    record BadBatch(String name, byte[] payload, String error) {}

    @Test
    void followerRejectsABadSlotBatchWholeAppliesNothingAndReconnects() throws Exception {
        int valueSize = 32;
        int slotSize = SlotLayout.slotSize(KEY_SIZE, valueSize);
        Path fdir = tmp.resolve("follower");
        FixedMap follower = track(FixedMap.open(fdir, config(valueSize, 1)));
        Path shardFile = fdir.resolve(ShardFileLayout.fileName(0));
        byte[] fileBefore = Files.readAllBytes(shardFile);
        int routing = follower.engine().meta().routing().code();
        byte[] dbId = new byte[16];
        new Random(SEED).nextBytes(dbId);

        byte[] k0 = key(1);
        byte[] v0 = value(valueSize, 1, 1);
        byte[] good = slotImage(SlotLayout.LIVE, 2, 5, k0, v0);
        assertThat(SlotLayout.imageCrcMatches(good, 0, slotSize))
                .as("hand-built image passes the CRC check")
                .isTrue();
        byte[] flipped = good.clone();
        flipped[SlotLayout.valueOffset(KEY_SIZE) + 3] ^= 0x10;
        byte[] good2 = slotImage(SlotLayout.LIVE, 2, 6, key(2), value(valueSize, 2, 1));

        List<BadBatch> cases = List.of(
                new BadBatch(
                        "count overruns the payload",
                        slotBatch(1, 10, 3, new int[] {0}, new byte[][] {good}),
                        "count 3"),
                new BadBatch("negative count", slotBatch(1, 10, -1, new int[] {0}, new byte[][] {good}), "count -1"),
                new BadBatch("shorter than its header", new byte[12], "at least 20 bytes"),
                new BadBatch(
                        "slot id 2^30",
                        slotBatch(1, 10, 1, new int[] {1 << 30}, new byte[][] {good}),
                        "got 1073741824"),
                new BadBatch("slot id -1", slotBatch(1, 10, 1, new int[] {-1}, new byte[][] {good}), "got -1"),
                // SHARD_INFO says 2 slots at leader LSN 10 and the batch claims no newer LSN: slot 3 cannot exist
                // yet, and slot 4,000,000 would grow the follower's file by gigabytes
                new BadBatch(
                        "slot id past SHARD_INFO's count",
                        slotBatch(1, 10, 1, new int[] {3}, new byte[][] {good}),
                        "must be in 0..2"),
                new BadBatch(
                        "slot id 4,000,000",
                        slotBatch(1, 10, 1, new int[] {4_000_000}, new byte[][] {good}),
                        "got 4000000"),
                new BadBatch("bad CRC", slotBatch(1, 10, 1, new int[] {0}, new byte[][] {flipped}), "CRC"),
                new BadBatch(
                        "good entry then bad CRC",
                        slotBatch(1, 10, 2, new int[] {0, 1}, new byte[][] {good2, flipped}),
                        "entry 1"));

        ReplicationClientConfig ccfg = new ReplicationClientConfig(
                Duration.ofSeconds(1),
                Duration.ofMillis(100),
                Duration.ofSeconds(2),
                Duration.ofMillis(20),
                Duration.ofMillis(200),
                null,
                null,
                null);
        try (FakeLeader fake = new FakeLeader()) {
            ReplicationClient client = track(ReplicationClient.start(follower, fake.address(), ccfg));
            for (int c = 0; c <= cases.size(); c++) {
                // every connection after the first is the follower reconnecting after the previous bad batch
                Socket s = fake.next(Duration.ofSeconds(5));
                InputStream in = s.getInputStream();
                s.setSoTimeout(5_000);
                byte[] header = in.readNBytes(FrameLayout.HEADER_SIZE);
                assertThat(header[0]).isEqualTo((byte) MessageType.SYNC_REQUEST.code());
                assertThat(ByteBuffer.wrap(header, 1, 4)
                                .order(ByteOrder.LITTLE_ENDIAN)
                                .getInt())
                        .isBetween(SyncRequest.FIXED_LENGTH, SyncRequest.MAX_LENGTH);
                int reqLen = ByteBuffer.wrap(header, 1, 4)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .getInt();
                ByteBuffer req = ByteBuffer.wrap(in.readNBytes(reqLen)).order(ByteOrder.LITTLE_ENDIAN);
                assertThat(req.getShort(0)).as("protocol version").isEqualTo((short) V);
                assertThat(req.getInt(4)).as("shard").isZero();
                assertThat(req.getLong(24))
                        .as("from LSN: nothing was ever recorded")
                        .isZero();

                byte[] info = shardInfo(1, KEY_SIZE, valueSize, slotSize, routing, 2, dbId, 10, 1);
                OutputStream out = s.getOutputStream();
                if (c == cases.size()) {
                    // control: the same exchange with a good batch is applied, which validates the images above
                    out.write(concat(
                            frame(2, info),
                            frame(3, slotBatch(1, 10, 2, new int[] {0, 1}, new byte[][] {good, good2})),
                            frame(4, caughtUp(2, 2, 10))));
                    out.flush();
                    awaitUntil(() -> "control batch applied", Duration.ofSeconds(5), () -> client.appliedLsn(0) == 10);
                    assertThat(follower.size()).isEqualTo(2);
                    assertThat(follower.get(k0)).isEqualTo(v0);
                    break;
                }
                BadBatch bad = cases.get(c);
                long fails = fake.attempts.get();
                out.write(concat(frame(2, info), frame(3, bad.payload())));
                out.flush();
                Outcome o = drain(s, Duration.ofSeconds(5), 1000);
                assertThat(o.end())
                        .as("%s: follower drops the connection", bad.name())
                        .isIn(End.EOF, End.RESET);
                for (Frame f : o.frames()) {
                    if (f.is(MessageType.ACK)) {
                        assertThat(f.buf().getLong(8))
                                .as("%s: no batch acknowledged", bad.name())
                                .isZero();
                        assertThat(f.buf().getLong(0))
                                .as("%s: no LSN acknowledged", bad.name())
                                .isZero();
                    } else {
                        assertThat(f.errorCode()).as("%s: %s", bad.name(), f).isEqualTo(ErrorCode.MALFORMED.code());
                    }
                }
                awaitUntil(
                        () -> bad.name() + ": follower reports the error, status " + client.status(),
                        Duration.ofSeconds(5),
                        () -> client.status().getFirst().lastError().contains(bad.error()));
                assertThat(client.status().getFirst().lastError()).startsWith("MALFORMED");
                assertThat(follower.size())
                        .as("%s: nothing applied", bad.name())
                        .isZero();
                assertThat(follower.get(k0)).isNull();
                assertThat(client.metrics().slotsApplied.sum()).isZero();
                assertThat(Files.readAllBytes(shardFile))
                        .as("%s: shard file unchanged", bad.name())
                        .isEqualTo(fileBefore);
                awaitUntil(
                        () -> bad.name() + ": follower reconnects",
                        Duration.ofSeconds(5),
                        () -> fake.attempts.get() > fails);
                s.close();
            }
            assertThat(fake.attempts.get()).isGreaterThanOrEqualTo(cases.size() + 1);
        }
    }

    /**
     * A first copy interrupted before CAUGHT_UP: the follower cannot be promoted (live, or after a restart) and, once
     * reopened, serves nothing of the partial copy; a copy that finishes clears the mark and promotion works. Fails
     * without the durable copy mark (the reopened follower serves key 1 and promotes).
     */
    @Test
    void aFirstCopyStoppedHalfwayIsNeverServedOrPromotedUntilACopyFinishes() throws Exception {
        int valueSize = 32;
        int slotSize = SlotLayout.slotSize(KEY_SIZE, valueSize);
        Path fdir = tmp.resolve("follower");
        FixedMap follower = FixedMap.open(fdir, config(valueSize, 1));
        int routing = follower.engine().meta().routing().code();
        byte[] dbId = new byte[16];
        new Random(SEED).nextBytes(dbId);
        byte[] k1 = key(1);
        byte[] v1 = value(valueSize, 1, 1);
        byte[] image1 = slotImage(SlotLayout.LIVE, 2, 5, k1, v1);
        byte[] image2 = slotImage(SlotLayout.LIVE, 2, 6, key(2), value(valueSize, 2, 1));
        byte[] info = shardInfo(1, KEY_SIZE, valueSize, slotSize, routing, 2, dbId, 10, 1);
        ReplicationClientConfig ccfg = new ReplicationClientConfig(
                Duration.ofSeconds(1),
                Duration.ofMillis(100),
                Duration.ofSeconds(2),
                Duration.ofMillis(20),
                Duration.ofMillis(200),
                null,
                null,
                null);
        try (FakeLeader fake = new FakeLeader()) {
            ReplicationClient client = ReplicationClient.start(follower, fake.address(), ccfg);
            Socket s = fake.next(Duration.ofSeconds(5));
            readSyncRequest(s);
            // half of the copy: one of the two slots, no CAUGHT_UP
            s.getOutputStream().write(concat(frame(2, info), frame(3, slotBatch(1, 10, 1, new int[] {0}, new byte[][] {
                image1
            }))));
            s.getOutputStream().flush();
            awaitUntil(
                    () -> "half the copy applied",
                    Duration.ofSeconds(5),
                    () -> client.metrics().slotsApplied.sum() == 1);
            assertThat(Files.exists(fdir.resolve(Store.copyMarkName(0)))).isTrue();
            assertThatThrownBy(client::promote)
                    .as("REPLICAOF NO ONE in the middle of a first copy")
                    .isInstanceOf(ArmDbException.class)
                    .hasMessageContaining("incomplete copy");
            assertThat(follower.engine().isReplica()).isTrue();
            follower.close();

            FixedMap reopened = track(FixedMap.open(fdir, config(valueSize, 1)));
            assertThat(reopened.get(k1))
                    .as("the partial copy is not served after a restart")
                    .isNull();
            assertThat(reopened.size()).isZero();
            assertThatThrownBy(() -> ReplicationClient.promoteReplica(reopened))
                    .isInstanceOf(ArmDbException.class)
                    .hasMessageContaining("incomplete copy");

            ReplicationClient again = ReplicationClient.start(reopened, fake.address(), ccfg);
            Socket s2 = fake.next(Duration.ofSeconds(5));
            ByteBuffer req = readSyncRequest(s2);
            assertThat(req.getLong(24)).as("the restarted copy asks from LSN 0").isZero();
            s2.getOutputStream()
                    .write(concat(
                            frame(2, info),
                            frame(3, slotBatch(1, 10, 2, new int[] {0, 1}, new byte[][] {image1, image2})),
                            frame(4, caughtUp(2, 2, 10))));
            s2.getOutputStream().flush();
            awaitUntil(() -> "whole copy applied", Duration.ofSeconds(5), () -> again.appliedLsn(0) == 10);
            assertThat(Files.exists(fdir.resolve(Store.copyMarkName(0)))).isFalse();
            again.promote();
            assertThat(reopened.get(k1)).isEqualTo(v1);
            assertThat(reopened.size()).isEqualTo(2);
            reopened.put(key(3), value(valueSize, 3, 1));
        }
    }

    // ------------------------------------------------------------------------------------------ 4. silent leader

    @Test
    void silentLeaderIsDroppedAfterThePeerTimeoutAndRetriedWithBackoff() throws Exception {
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, 1)));
        ReplicationClientConfig ccfg = new ReplicationClientConfig(
                Duration.ofSeconds(1),
                Duration.ofMillis(50),
                Duration.ofMillis(300),
                Duration.ofMillis(50),
                Duration.ofMillis(400),
                null,
                null,
                null);
        try (FakeLeader fake = new FakeLeader()) {
            long start = System.nanoTime();
            ReplicationClient client = track(ReplicationClient.start(follower, fake.address(), ccfg));
            awaitUntil(() -> "two connection attempts", Duration.ofSeconds(5), () -> fake.attempts.get() >= 2);
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(elapsedMs)
                    .as("the first connection is kept for the peer timeout")
                    .isGreaterThanOrEqualTo(290);
            awaitUntil(
                    () -> "status names the silence: " + client.status(),
                    Duration.ofSeconds(5),
                    () -> client.status().getFirst().lastError().contains("silent"));
            assertThat(client.status().getFirst().lastError()).startsWith("TIMEOUT");
            assertThat(client.status().getFirst().state()).isNotEqualTo("FAILED");
            assertThat(follower.size()).isZero();
        }
    }

    // ------------------------------------------------------------------------------------------ 5. mismatch

    @Test
    void followerWithAnotherValueSizeFailsEveryShardAndTouchesNoFile() throws Exception {
        Path fdir = tmp.resolve("follower");
        try (FixedMap f = FixedMap.open(fdir, config(16, SHARDS))) {
            for (int i = 0; i < 500; i++) {
                f.put(key(i), value(16, i, 3));
            }
        }
        Map<String, String> before = hashFiles(fdir);
        assertThat(before).containsKey(ShardFileLayout.fileName(0));

        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, SHARDS)));
        for (int i = 0; i < 1000; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        FixedMap follower = FixedMap.open(fdir, config(16, SHARDS));
        try {
            ReplicationClient client =
                    ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults());
            try {
                awaitUntil(
                        () -> "every shard FAILED: " + client.status(),
                        Duration.ofSeconds(10),
                        () -> client.status().stream().allMatch(st -> st.state().equals("FAILED")));
                assertThat(client.status())
                        .hasSize(SHARDS)
                        .allSatisfy(st ->
                                assertThat(st.lastError()).contains("value size mismatch: leader 32, follower 16"));
                long received = client.bytesReceived();
                LockSupport.parkNanos(Duration.ofMillis(400).toNanos());
                assertThat(client.bytesReceived())
                        .as("a failed shard does not retry")
                        .isEqualTo(received);
                assertThat(follower.size()).isEqualTo(500);
            } finally {
                client.close();
            }
        } finally {
            follower.close();
        }
        assertThat(hashFiles(fdir)).isEqualTo(before);
    }

    // ------------------------------------------------------------------------------------------ 6. leader restart

    @Test
    void restartedLeaderOnTheSamePortIsFollowedAgainWithoutAFullResync() throws Exception {
        Path ldir = tmp.resolve("leader");
        FixedMap leader = FixedMap.open(ldir, config(32, SHARDS));
        ReplicationServer server = null;
        try {
            for (int i = 0; i < 20_000; i++) {
                leader.put(key(i), value(32, i, 0));
            }
            server = ReplicationServer.start(leader, ReplicationServerConfig.defaults());
        } catch (RuntimeException e) {
            leader.close();
            throw e;
        }
        int port = server.address().getPort();
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, SHARDS)));
        ReplicationClient client = track(ReplicationClient.start(follower, server.address(), fastClient()));
        try {
            awaitConverged(leader, client);
            assertThat(contents(follower)).hasSize(20_000);
        } finally {
            server.close();
            leader.close();
        }

        // restart 1: reopened as is (its change feed restarts at the LSN the follower already has)
        Restarted r1 = restartLeader(ldir, null, port, follower, client, 1);
        var m = r1.server().metrics();
        assertThat(m.resyncsFull.sum()).isZero();
        assertThat(m.resyncsBacklog.sum() + m.resyncsPartial.sum()).isEqualTo(SHARDS);
        assertThat(m.catchupSlotsSent.sum()).as("only changed slots are sent").isLessThan(1_000);
        r1.server().close();
        r1.leader().close();

        // restart 2: reopened with a change feed too small for the changes, so each shard needs a partial scan
        FixedConfig tinyFeed =
                config(32, SHARDS).toBuilder().changeFeedCapacity(16).build();
        Restarted r2 = restartLeader(ldir, tinyFeed, port, follower, client, 2);
        m = r2.server().metrics();
        assertThat(m.resyncsFull.sum()).isZero();
        assertThat(m.resyncsPartial.sum()).isEqualTo(SHARDS);
        assertThat(m.catchupSlotsScanned.sum()).isGreaterThanOrEqualTo(20_000);
        assertThat(m.catchupSlotsSent.sum()).as("only changed slots are sent").isBetween(1L, 1_000L);
        assertThat(client.metrics().resyncsFull.sum())
                .as("the follower never wiped a shard")
                .isZero();
    }

    @Test
    void aLeaderThatLostItsNewestWritesInACrashIsRecopiedNotTrusted() throws Exception {
        Path ldir = tmp.resolve("leader");
        Path before = tmp.resolve("leader-files-before");
        try (FixedMap l = FixedMap.open(ldir, config(32, SHARDS))) {
            for (int i = 0; i < 2_000; i++) {
                l.put(key(i), value(32, i, 0));
            }
        }
        copyFiles(ldir, before);
        FixedMap leader = FixedMap.open(ldir);
        ReplicationServer server = ReplicationServer.start(leader, ReplicationServerConfig.defaults());
        int port = server.address().getPort();
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, SHARDS)));
        ReplicationClient client = track(ReplicationClient.start(follower, server.address(), fastClient()));
        try {
            awaitConverged(leader, client);
            // writes the follower receives, and the leader is about to lose
            for (int i = 0; i < 500; i++) {
                leader.put(key(i), value(32, i, 1));
            }
            awaitConverged(leader, client);
        } finally {
            server.close();
            leader.close();
        }
        awaitUntil(
                () -> "follower notices the leader is gone: " + client.status(),
                Duration.ofSeconds(10),
                () -> client.status().stream().noneMatch(st -> st.state().equals("STREAMING")));
        long[] followerLsn = new long[SHARDS];
        for (int s = 0; s < SHARDS; s++) {
            followerLsn[s] = client.appliedLsn(s);
        }
        // power loss: the leader's files are back where they were before those writes, no clean close, and the
        // system booted again
        copyFiles(before, ldir);
        Files.delete(ldir.resolve(Store.CLEAN_MARK));
        Path bootFile = tmp.resolve("boot_id");
        Files.writeString(bootFile, "a-later-boot\n");
        System.setProperty(Store.BOOT_ID_PROPERTY, bootFile.toString());
        try {
            reopenAfterPowerLoss(ldir, port, follower, client, followerLsn);
        } finally {
            System.clearProperty(Store.BOOT_ID_PROPERTY);
        }
    }

    private void reopenAfterPowerLoss(
            Path ldir, int port, FixedMap follower, ReplicationClient client, long[] followerLsn) {
        // an open and a clean close in between (a tool, a quick restart) must not make the lost writes trusted
        FixedMap.open(ldir).close();
        assertThat(ldir.resolve(Store.CLEAN_MARK)).exists();
        FixedMap reopened = track(FixedMap.open(ldir));
        // new writes reuse the lost LSNs and move every shard past the follower's position
        for (int i = 0; i < 1_600; i++) {
            reopened.put(key(1_000 + i % 800), value(32, i, 2));
        }
        for (int s = 0; s < SHARDS; s++) {
            assertThat(reopened.engine().view(s).lastLsn())
                    .as("shard %d moved past the follower", s)
                    .isGreaterThan(followerLsn[s]);
        }
        ReplicationServer again = track(ReplicationServer.start(
                reopened, ReplicationServerConfig.defaults().withBind(new InetSocketAddress(LOOPBACK, port))));
        awaitConverged(reopened, client);
        assertThat(contents(follower))
                .as("the follower holds the leader's data, not the writes the leader lost")
                .isEqualTo(contents(reopened));
        assertThat(again.metrics().resyncsFull.sum()).isEqualTo(SHARDS);
    }

    /**
     * A leader process that dies (no clean close) while the system keeps running loses nothing: the page cache holds
     * every write. Restarted in the same boot, it keeps trusting its epochs, so followers resume where they were
     * instead of copying everything.
     */
    @Test
    void aLeaderRestartedAfterAProcessCrashLetsFollowersResume() throws Exception {
        Path ldir = tmp.resolve("leader");
        FixedMap leader = FixedMap.open(ldir, config(32, SHARDS));
        for (int i = 0; i < 2_000; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = ReplicationServer.start(leader, ReplicationServerConfig.defaults());
        int port = server.address().getPort();
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, SHARDS)));
        ReplicationClient client = track(ReplicationClient.start(follower, server.address(), fastClient()));
        try {
            awaitConverged(leader, client);
        } finally {
            server.close();
            leader.close();
        }
        // the process died: the files hold every write, but there was no clean close
        Files.delete(ldir.resolve(Store.CLEAN_MARK));
        FixedMap reopened = track(FixedMap.open(ldir));
        for (int i = 0; i < 300; i++) {
            reopened.put(key(i), value(32, i, 1));
        }
        ReplicationServer again = track(ReplicationServer.start(
                reopened, ReplicationServerConfig.defaults().withBind(new InetSocketAddress(LOOPBACK, port))));
        awaitConverged(reopened, client);
        assertThat(contents(follower)).isEqualTo(contents(reopened));
        assertThat(again.metrics().resyncsFull.sum()).as("full copies").isZero();
    }

    private static ReplicationClientConfig fastClient() {
        return new ReplicationClientConfig(
                Duration.ofSeconds(1),
                Duration.ofMillis(100),
                Duration.ofSeconds(3),
                Duration.ofMillis(50),
                Duration.ofMillis(300),
                null,
                null,
                null);
    }

    /** Replaces the regular files of {@code to} by those of {@code from} (a collection's whole state). */
    private static void copyFiles(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> old = Files.list(to)) {
            for (Path p : old.toList()) {
                Files.delete(p);
            }
        }
        try (Stream<Path> files = Files.list(from)) {
            for (Path p : files.toList()) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }

    record Restarted(FixedMap leader, ReplicationServer server) {}

    /**
     * With the old leader closed: waits for the follower to notice, reopens the leader, changes 500 records,
     * serves it on the same port and waits for the follower to converge.
     */
    private Restarted restartLeader(
            Path ldir, FixedConfig reopen, int port, FixedMap follower, ReplicationClient client, int v) {
        awaitUntil(
                () -> "follower notices the leader is gone: " + client.status(),
                Duration.ofSeconds(10),
                () -> client.status().stream().noneMatch(st -> st.state().equals("STREAMING")));
        long[] appliedBefore = new long[SHARDS];
        for (int s = 0; s < SHARDS; s++) {
            appliedBefore[s] = client.appliedLsn(s);
        }
        FixedMap leader = track(reopen == null ? FixedMap.open(ldir) : FixedMap.open(ldir, reopen));
        for (int i = 0; i < 300; i++) {
            leader.put(key(i * 50 + v), value(32, i * 50 + v, v));
        }
        for (int i = 0; i < 100; i++) {
            leader.put(key(30_000 + 100 * v + i), value(32, 30_000 + i, v));
            leader.delete(key(i * 50 + 20 + v));
        }
        for (int s = 0; s < SHARDS; s++) {
            assertThat(leader.engine().view(s).lastLsn())
                    .as("shard %d moved past the follower", s)
                    .isGreaterThan(appliedBefore[s]);
        }
        long bytesBefore = client.bytesReceived();
        ReplicationServer server = track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withBind(new InetSocketAddress(LOOPBACK, port))));
        assertThat(server.address().getPort()).isEqualTo(port);
        awaitConverged(leader, client);
        assertThat(contents(follower)).isEqualTo(contents(leader));
        var m = server.metrics();
        long received = client.bytesReceived() - bytesBefore;
        System.out.printf(
                "leader restart %d: full %d, partial %d, backlog %d, scanned %d, sent %d, follower received %d bytes%n",
                v,
                m.resyncsFull.sum(),
                m.resyncsPartial.sum(),
                m.resyncsBacklog.sum(),
                m.catchupSlotsScanned.sum(),
                m.catchupSlotsSent.sum(),
                received);
        assertThat(received).as("far less than the 20,000-record data set").isLessThan(300_000);
        return new Restarted(leader, server);
    }

    // ------------------------------------------------------------------------------------------ 7. awaitReplicated

    @Test
    void awaitReplicatedWithoutAFollowerTimesOutCleanly() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, SHARDS)));
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        byte[] k = key(42);
        int shard = leader.engine().shardOf(k, KeyHash.hash(k));
        long lsn = leader.put(k, value(32, 42, 0));

        long start = System.nanoTime();
        boolean replicated = server.awaitReplicated(shard, lsn, 1, Duration.ofMillis(400));
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(replicated).isFalse();
        assertThat(tookMs).isBetween(390L, 2_000L);
        assertThat(server.countAcked(shard, lsn)).isZero();

        start = System.nanoTime();
        assertThat(server.awaitReplicated(shard, lsn, 0, Duration.ofSeconds(5))).isTrue();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_000L);
    }

    // ------------------------------------------------------------------------------------------ bugs found

    /**
     * FrameLayout promises that a length is checked against "the type's own rules before any payload byte is
     * read into memory", but FrameChannel.receive only checks it against MAX_PAYLOAD: a 5-byte header claiming a
     * 1 MiB SYNC_REQUEST (always 104 bytes) makes the leader allocate the buffer and wait the whole peer timeout
     * for a payload it will refuse anyway, then close without an ERROR.
     */
    @Test
    void firstFrameClaimingMoreBytesThanASyncRequestIsRefusedAtItsHeader() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, SHARDS)));
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        try (Socket s = connect(server.address())) {
            s.getOutputStream().write(frame(1, 1 << 20, new byte[0]));
            Outcome o = drain(s, Duration.ofSeconds(2), 10);
            assertRefused(o, ErrorCode.MALFORMED, "SYNC_REQUEST");
        }
    }

    /**
     * ReplicationServerConfig: "a follower silent this long is dropped". A follower that sends its SyncRequest
     * and then neither reads nor writes is never dropped: the session thread blocks in FrameChannel.send (socket
     * write, no timeout) during the catch-up, so FollowerSession.checkAlive never runs; its two threads and
     * batch buffer live until the peer closes the socket or the server is closed.
     */
    @Test
    void followerThatStopsReadingIsDroppedAfterThePeerTimeout() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1)));
        for (int i = 0; i < 200_000; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        // a window wider than the shard: only the socket, not the window, can hold the sender back
        ReplicationServerConfig scfg = ReplicationServerConfig.defaults()
                .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(1))
                .withWindow(64, 256 << 10);
        ReplicationServer server = track(ReplicationServer.start(leader, scfg));
        Socket s = track(new Socket());
        s.setReceiveBufferSize(4096);
        s.connect(server.address(), 2_000);
        s.getOutputStream().write(frame(1, syncRequest(V, 0, new byte[16], 0, 9)));
        awaitUntil(
                () -> "a session in " + server.status(),
                Duration.ofSeconds(2),
                () -> !server.status().isEmpty());
        awaitUntil(
                () -> "the silent follower dropped within the 1 s peer timeout (+4 s); sessions " + server.status()
                        + ", threads " + leaderSessionThreads(),
                Duration.ofSeconds(5),
                () -> server.status().isEmpty());
    }
}
