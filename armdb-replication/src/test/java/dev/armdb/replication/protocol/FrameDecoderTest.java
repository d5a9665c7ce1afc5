package dev.armdb.replication.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link FrameDecoder} reassembles frames from a stream cut anywhere: inside a header, inside a payload, several
 * frames to a piece; it refuses a bad header before waiting for its payload. Randomised parts print their seed; {@code
 * -Darmdb.seed=N} repeats a run.
 */
class FrameDecoderTest {
    private static final long SEED = Long.getLong("armdb.seed", System.nanoTime());

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
        for (Sent f : frames) {
            ByteBuffer b = ByteBuffer.allocate(FrameLayout.HEADER_SIZE + f.payload.length)
                    .order(ByteOrder.LITTLE_ENDIAN);
            FrameLayout.putHeader(b, f.type, f.payload.length);
            b.put(f.payload);
            out.writeBytes(b.array());
        }
        return out.toByteArray();
    }

    /** Feeds {@code stream} cut before each index of {@code cuts} (ascending) and returns the frames taken. */
    private static List<Sent> feed(FrameDecoder d, byte[] stream, int[] cuts) {
        List<Sent> got = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : stream.length;
            // as a socket read: as much of the piece as the buffer takes, then every whole frame
            while (from < to) {
                ByteBuffer buf = d.buffer();
                int n = Math.min(to - from, buf.remaining());
                assertThat(n)
                        .as("room in the buffer after next() returned null")
                        .isPositive();
                buf.put(stream, from, n);
                from += n;
                for (MessageType t = d.next(); t != null; t = d.next()) {
                    ByteBuffer p = d.payload();
                    assertThat(p.array()).isSameAs(d.array());
                    got.add(new Sent(t, Arrays.copyOfRange(d.array(), p.position(), p.limit())));
                }
            }
        }
        return got;
    }

    private static FrameDecoder decoder(int capacity) {
        return new FrameDecoder(capacity, EnumSet.allOf(MessageType.class), "in this test");
    }

    private static Sent frame(Random rnd, MessageType type, int maxLength) {
        byte[] p = new byte[rnd.nextInt(Math.min(maxLength, type.maxPayload()) + 1)];
        rnd.nextBytes(p);
        return new Sent(type, p);
    }

    @Test
    void framesCutAtEveryPointComeOutWholeAndInOrder() {
        Random rnd = new Random(SEED);
        List<Sent> frames = List.of(
                frame(rnd, MessageType.ACK, Ack.LENGTH),
                new Sent(MessageType.HEARTBEAT, new byte[0]),
                frame(rnd, MessageType.SLOT_BATCH, 200),
                frame(rnd, MessageType.CAUGHT_UP, CaughtUp.LENGTH));
        byte[] stream = encode(frames);
        for (int capacity : new int[] {FrameLayout.HEADER_SIZE, 16, 64, 1024}) {
            for (int cut = 1; cut < stream.length; cut++) {
                assertThat(feed(decoder(capacity), stream, new int[] {cut}))
                        .as("capacity %d, cut at %d", capacity, cut)
                        .containsExactlyElementsOf(frames);
            }
            int[] everyByte = new int[stream.length - 1];
            Arrays.setAll(everyByte, i -> i + 1);
            assertThat(feed(decoder(capacity), stream, everyByte))
                    .as("capacity %d, one byte at a time", capacity)
                    .containsExactlyElementsOf(frames);
        }
    }

    @Test
    void randomStreamsCutAtRandomPointsComeOutWholeAndInOrder() {
        System.out.println("FrameDecoderTest seed " + SEED + " (repeat with -Darmdb.seed=" + SEED + ")");
        Random rnd = new Random(SEED);
        MessageType[] types = MessageType.values();
        for (int run = 0; run < 2_000; run++) {
            List<Sent> frames = new ArrayList<>();
            for (int i = 1 + rnd.nextInt(12); i > 0; i--) {
                frames.add(frame(rnd, types[rnd.nextInt(types.length)], rnd.nextBoolean() ? 8 : 3_000));
            }
            byte[] stream = encode(frames);
            int[] cuts = rnd.ints(rnd.nextInt(20), 1, stream.length)
                    .sorted()
                    .distinct()
                    .toArray();
            FrameDecoder d = decoder(FrameLayout.HEADER_SIZE + rnd.nextInt(100));
            assertThat(feed(d, stream, cuts))
                    .as("seed %d run %d, cuts %s", SEED, run, Arrays.toString(cuts))
                    .containsExactlyElementsOf(frames);
            assertThat(d.buffered()).isZero();
        }
    }

    @Test
    void aFrameOfATypeNotAcceptedIsRefusedFromItsHeaderWithoutMakingRoomForIt() {
        FrameDecoder d = new FrameDecoder(
                64, EnumSet.of(MessageType.ACK, MessageType.HEARTBEAT), "from a follower after the handshake");
        ByteBuffer header = ByteBuffer.allocate(FrameLayout.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        FrameLayout.putHeader(header, MessageType.SLOT_BATCH, FrameLayout.MAX_PAYLOAD);
        d.buffer().put(header.array(), 0, FrameLayout.HEADER_SIZE - 1);
        assertThat(d.next()).as("header incomplete").isNull();
        d.buffer().put(header.array(), FrameLayout.HEADER_SIZE - 1, 1);
        assertThatThrownBy(d::next)
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED))
                .hasMessage("unexpected SLOT_BATCH from a follower after the handshake");
        assertThat(d.buffer().capacity()).isEqualTo(64);
    }

    @Test
    void aLengthAboveTheTypesMaximumIsRefusedFromTheHeader() {
        FrameDecoder d = decoder(64);
        ByteBuffer header = ByteBuffer.allocate(FrameLayout.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        FrameLayout.putHeader(header, MessageType.ACK, Ack.LENGTH + 1);
        d.buffer().put(header.array());
        assertThatThrownBy(d::next)
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED))
                .hasMessageContaining("ACK frame length must be 0.." + Ack.LENGTH + ", got " + (Ack.LENGTH + 1));
        d = decoder(64);
        d.buffer().put(new byte[] {(byte) 200, 0, 0, 0, 0});
        assertThatThrownBy(d::next).hasMessage("unknown frame type 200");
    }

    @Test
    void takeBufferedHandsOverWhatFollowsTheFramesTaken() {
        Random rnd = new Random(SEED);
        Sent first = frame(rnd, MessageType.ACK, Ack.LENGTH);
        byte[] stream = encode(List.of(first, frame(rnd, MessageType.SLOT_BATCH, 50)));
        FrameDecoder d = decoder(stream.length);
        d.buffer().put(stream, 0, stream.length - 3);
        assertThat(d.next()).isEqualTo(MessageType.ACK);
        int rest = FrameLayout.HEADER_SIZE + first.payload.length;
        assertThat(d.takeBuffered()).isEqualTo(Arrays.copyOfRange(stream, rest, stream.length - 3));
        assertThat(d.buffered()).isZero();
        assertThat(d.next()).isNull();
    }
}
