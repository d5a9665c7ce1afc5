package dev.armdb.replication.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.replication.protocol.Ack;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ProtocolException;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link FrameReader} over in-memory transports that deliver a byte stream cut at every point, one byte at a time, or
 * in pieces of random sizes: every frame comes out whole and in order, with its payload at index 0, whatever the split
 * (inside a header too) and whether the payload fits the staging buffer; bad headers are refused before their payload
 * is kept or room is made for it; what follows the frames taken can be handed to another reader. Randomised; {@code
 * -Darmdb.seed=N} repeats a run.
 */
class FrameReaderTest {
    private static final long SEED = Long.getLong("armdb.seed", System.nanoTime());

    /** A transport that hands out {@code stream} in reads of at most the next piece size; then ends it. */
    private static final class Pieces implements ByteTransport {
        private final byte[] stream;
        private final Random rnd;
        private final int maxPiece;
        private int at;
        /** Every other read finds nothing, as a non-blocking socket often does. */
        private boolean dry;

        Pieces(byte[] stream, Random rnd, int maxPiece) {
            this.stream = stream;
            this.rnd = rnd;
            this.maxPiece = maxPiece;
        }

        @Override
        public int read(ByteBuffer dst) {
            if (at == stream.length) {
                return -1;
            }
            dry = !dry;
            if (dry && rnd.nextBoolean()) {
                return 0;
            }
            int n = Math.min(Math.min(dst.remaining(), stream.length - at), 1 + rnd.nextInt(maxPiece));
            dst.put(stream, at, n);
            at += n;
            return n;
        }

        @Override
        public void handshake() {}

        @Override
        public Handshake handshakeStep() {
            return Handshake.DONE;
        }

        @Override
        public InputStream blockingInput() {
            throw new UnsupportedOperationException();
        }

        @Override
        public OutputStream blockingOutput() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int write(ByteBuffer src) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean flush() {
            return true;
        }

        @Override
        public boolean wantsWrite() {
            return false;
        }

        @Override
        public boolean inputBuffered() {
            return false;
        }

        @Override
        public void close() {}
    }

    /** A transport that hands out the pieces of {@code stream} cut before each index of {@code cuts}, one per read. */
    private static final class Cuts implements ByteSource {
        private final byte[] stream;
        private final int[] cuts;
        private int at;
        private int next;

        Cuts(byte[] stream, int[] cuts) {
            this.stream = stream;
            this.cuts = cuts;
        }

        @Override
        public int read(ByteBuffer dst) {
            if (at == stream.length) {
                return -1;
            }
            int end = next < cuts.length ? cuts[next] : stream.length;
            int n = Math.min(dst.remaining(), end - at);
            dst.put(stream, at, n);
            at += n;
            if (at == end) {
                next++;
            }
            return n;
        }
    }

    /** A frame as sent: its type and payload. */
    private record Sent(MessageType type, byte[] payload) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Sent s && s.type == type && Arrays.equals(s.payload, payload);
        }

        @Override
        public int hashCode() {
            return type.hashCode() * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return type + "(" + payload.length + " bytes)";
        }
    }

    private static byte[] encode(List<Sent> frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        frames.forEach(f -> out.writeBytes(frame(f.type, f.payload)));
        return out.toByteArray();
    }

    private static Sent sent(Random rnd, MessageType type, int maxLength) {
        byte[] p = new byte[rnd.nextInt(Math.min(maxLength, type.maxPayload()) + 1)];
        rnd.nextBytes(p);
        return new Sent(type, p);
    }

    /** Reads everything {@code source} delivers as a session does (every whole frame, then a read) until its end. */
    private static List<Sent> readAll(FrameReader reader, ByteSource source) throws Exception {
        List<Sent> got = new ArrayList<>();
        for (int step = 0; step < 1_000_000; step++) {
            for (MessageType t = reader.next(); t != null; t = reader.next()) {
                ByteBuffer p = reader.payload();
                assertThat(p.position()).isZero();
                got.add(new Sent(t, Arrays.copyOf(reader.payloadArray(), p.limit())));
            }
            assertThat(reader.frameReady())
                    .as("a frame was ready but not taken")
                    .isFalse();
            if (reader.fill(source) < 0) {
                assertThat(reader.inputPending()).as("bytes left at the end").isFalse();
                return got;
            }
        }
        throw new AssertionError("the stream did not end");
    }

    private static FrameReader everyType(int staging, int payload) {
        return new FrameReader(staging, payload, EnumSet.allOf(MessageType.class), "in this test");
    }

    @Test
    void framesCutAtEveryPointAndOneByteAtATimeComeOutWholeAndInOrder() throws Exception {
        Random rnd = new Random(SEED);
        List<Sent> frames = List.of(
                sent(rnd, MessageType.ACK, Ack.LENGTH),
                new Sent(MessageType.HEARTBEAT, new byte[0]),
                sent(rnd, MessageType.SLOT_BATCH, 200),
                sent(rnd, MessageType.CAUGHT_UP, CaughtUp.LENGTH));
        byte[] stream = encode(frames);
        for (int staging : new int[] {FrameLayout.HEADER_SIZE, 16, 64, 1024}) {
            for (int cut = 1; cut < stream.length; cut++) {
                assertThat(readAll(everyType(staging, 1), new Cuts(stream, new int[] {cut})))
                        .as("staging %d, cut at %d", staging, cut)
                        .containsExactlyElementsOf(frames);
            }
            int[] everyByte = new int[stream.length - 1];
            Arrays.setAll(everyByte, i -> i + 1);
            assertThat(readAll(everyType(staging, 1), new Cuts(stream, everyByte)))
                    .as("staging %d, one byte at a time", staging)
                    .containsExactlyElementsOf(frames);
        }
    }

    @Test
    void streamsOfEveryTypeCutAtRandomPointsComeOutWholeAndInOrder() throws Exception {
        System.out.println("FrameReaderTest seed " + SEED + " (repeat with -Darmdb.seed=" + SEED + ")");
        Random rnd = new Random(SEED);
        MessageType[] types = MessageType.values();
        for (int run = 0; run < 2_000; run++) {
            List<Sent> frames = new ArrayList<>();
            for (int i = 1 + rnd.nextInt(12); i > 0; i--) {
                frames.add(sent(rnd, types[rnd.nextInt(types.length)], rnd.nextBoolean() ? 8 : 3_000));
            }
            byte[] stream = encode(frames);
            int[] cuts = rnd.ints(rnd.nextInt(20), 1, stream.length)
                    .sorted()
                    .distinct()
                    .toArray();
            FrameReader reader = everyType(FrameLayout.HEADER_SIZE + rnd.nextInt(100), 1 + rnd.nextInt(64));
            assertThat(readAll(reader, new Cuts(stream, cuts)))
                    .as("seed %d run %d, cuts %s", SEED, run, Arrays.toString(cuts))
                    .containsExactlyElementsOf(frames);
        }
    }

    @Test
    void aFrameOfATypeNotAcceptedIsRefusedFromItsHeaderWithoutMakingRoomForIt() {
        FrameReader reader = new FrameReader(
                64, 16, EnumSet.of(MessageType.ACK, MessageType.HEARTBEAT), "from a follower after the handshake");
        byte[] header = ByteBuffer.allocate(FrameLayout.HEADER_SIZE)
                .order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) MessageType.SLOT_BATCH.code())
                .putInt(FrameLayout.MAX_PAYLOAD)
                .array();
        reader.preload(Arrays.copyOf(header, FrameLayout.HEADER_SIZE - 1));
        assertThat(reader.next()).as("header incomplete").isNull();
        assertThat(reader.frameReady()).isFalse();
        reader.preload(new byte[] {header[FrameLayout.HEADER_SIZE - 1]});
        assertThatThrownBy(reader::next)
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED))
                .hasMessage("unexpected SLOT_BATCH from a follower after the handshake");
        assertThat(reader.payloadArray()).as("no room made for the payload").hasSize(16);
    }

    @Test
    void takeBufferedHandsOverWhatFollowsTheFramesTakenAFrameInProgressIncluded() throws Exception {
        Random rnd = new Random(SEED);
        Sent first = sent(rnd, MessageType.ACK, Ack.LENGTH);
        Sent second = new Sent(MessageType.SLOT_BATCH, new byte[50]);
        rnd.nextBytes(second.payload);
        byte[] stream = encode(List.of(first, second));
        int rest = FrameLayout.HEADER_SIZE + first.payload.length;
        // the next frame cut inside its header (staged), inside its payload (gathered), and with the rest of its
        // payload read straight into its array
        int[][] pieces = {{rest + 3}, {stream.length - 3}, {rest + 20, stream.length - 3}};
        for (int[] ends : pieces) {
            int end = ends[ends.length - 1];
            Cuts source = new Cuts(Arrays.copyOf(stream, end), Arrays.copyOf(ends, ends.length - 1));
            FrameReader reader = everyType(128, 8);
            assertThat(reader.fill(source)).isPositive();
            assertThat(reader.next()).isEqualTo(MessageType.ACK);
            assertThat(reader.next()).isNull();
            while (reader.fill(source) > 0) {
                assertThat(reader.next()).isNull();
            }
            assertThat(reader.takeBuffered())
                    .as("cut at %s", Arrays.toString(ends))
                    .isEqualTo(Arrays.copyOfRange(stream, rest, end));
            assertThat(reader.inputPending()).isFalse();
            assertThat(reader.next()).isNull();
            FrameReader next = everyType(64, 8);
            next.preload(Arrays.copyOfRange(stream, rest, stream.length));
            assertThat(next.next()).isEqualTo(MessageType.SLOT_BATCH);
            assertThat(Arrays.copyOf(next.payloadArray(), next.payload().limit()))
                    .isEqualTo(second.payload);
        }
    }

    private static byte[] frame(MessageType type, byte[] payload) {
        return ByteBuffer.allocate(FrameLayout.HEADER_SIZE + payload.length)
                .order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) type.code())
                .putInt(payload.length)
                .put(payload)
                .array();
    }

    @Test
    void framesSplitAnyWayComeOutWholeAndInOrder() throws Exception {
        System.out.println("FrameReaderTest seed " + SEED + " (repeat with -Darmdb.seed=" + SEED + ")");
        Random rnd = new Random(SEED);
        for (int round = 0; round < 200; round++) {
            List<byte[]> payloads = new ArrayList<>();
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            int frames = 1 + rnd.nextInt(20);
            for (int f = 0; f < frames; f++) {
                // small frames that fit the staging buffer and batches many times its size
                int size = rnd.nextInt(4) == 0 ? rnd.nextInt(20_000) : rnd.nextInt(40);
                byte[] p = new byte[size];
                rnd.nextBytes(p);
                payloads.add(p);
                wire.writeBytes(frame(MessageType.SLOT_BATCH, p));
            }
            int staging = FrameLayout.HEADER_SIZE + rnd.nextInt(300);
            int maxPiece = rnd.nextBoolean() ? 1 : 1 + rnd.nextInt(5_000);
            Pieces transport = new Pieces(wire.toByteArray(), rnd, maxPiece);
            FrameReader reader =
                    new FrameReader(staging, 1 + rnd.nextInt(64), EnumSet.of(MessageType.SLOT_BATCH), "in this test");
            int got = 0;
            for (int step = 0; step < 10_000_000 && got < frames; step++) {
                MessageType t = reader.next();
                if (t == null) {
                    assertThat(reader.frameReady())
                            .as("round %d: a frame was ready but not taken", round)
                            .isFalse();
                    assertThat(reader.fill(transport))
                            .as("round %d: end of stream before frame %d", round, got)
                            .isGreaterThanOrEqualTo(0);
                    continue;
                }
                assertThat(t).isEqualTo(MessageType.SLOT_BATCH);
                byte[] want = payloads.get(got);
                ByteBuffer p = reader.payload();
                assertThat(p.position()).isZero();
                assertThat(p.remaining())
                        .as("round %d frame %d length", round, got)
                        .isEqualTo(want.length);
                byte[] have = new byte[want.length];
                System.arraycopy(reader.payloadArray(), 0, have, 0, want.length);
                assertThat(have).as("round %d frame %d payload", round, got).isEqualTo(want);
                got++;
            }
            assertThat(got).as("round %d frames", round).isEqualTo(frames);
            assertThat(reader.inputPending()).isFalse();
        }
    }

    @Test
    void badHeadersAreRefusedBeforeTheirPayload() {
        FrameReader reader = new FrameReader(64, 16, EnumSet.of(MessageType.ACK), "from a test peer");
        assertRefused(reader, new byte[] {(byte) 200, 0, 0, 0, 0}, "unknown frame type 200");
        reader.reset();
        assertRefused(
                reader,
                ByteBuffer.allocate(5)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .put((byte) MessageType.ACK.code())
                        .putInt(-1)
                        .array(),
                "ACK frame length must be 0..16, got 4294967295");
        reader.reset();
        assertRefused(reader, frame(MessageType.HEARTBEAT, new byte[0]), "unexpected HEARTBEAT from a test peer");
        reader.reset();
        reader.accept(EnumSet.of(MessageType.HEARTBEAT), "after the switch");
        reader.preload(frame(MessageType.HEARTBEAT, new byte[3]));
        assertThat(reader.next()).isEqualTo(MessageType.HEARTBEAT);
    }

    private static void assertRefused(FrameReader reader, byte[] header, String message) {
        reader.preload(header);
        assertThat(reader.frameReady())
                .as("a bad header is ready to be refused")
                .isTrue();
        assertThatThrownBy(reader::next)
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(((ProtocolException) e).code()).isEqualTo(ErrorCode.MALFORMED));
    }
}
