package dev.armdb.replication.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link FrameReader} over an in-memory transport that delivers a byte stream in pieces of random sizes (one byte at
 * a time included): every frame comes out whole and in order, with its payload at index 0, whatever the split and
 * whether the payload fits the staging buffer; bad headers are refused before their payload is kept. Randomised;
 * {@code -Darmdb.seed=N} repeats a run.
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
