package dev.armdb.replication.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.replication.ReplicationSecret;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Pins the wire format of every fixed message. A change here is a protocol change: bump {@link
 * ProtocolVersion} and update docs/protocol.md. Regenerate with {@code -Darmdb.golden.write=true} from the
 * module directory after a deliberate change.
 */
class ProtocolGoldenTest {
    private static final boolean WRITE = Boolean.getBoolean("armdb.golden.write");

    private static byte[] id() {
        byte[] id = new byte[16];
        for (int i = 0; i < 16; i++) {
            id[i] = (byte) (0xC0 + i);
        }
        return id;
    }

    private static byte[] bytes(int n, int first) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (first + i);
        }
        return b;
    }

    private static ByteBuffer buf(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String hex(ByteBuffer b) {
        return HexFormat.of().formatHex(b.array()) + "\n";
    }

    @Test
    void messagesMatchTheGoldenBytesAndRoundTrip() throws IOException {
        StringBuilder sb = new StringBuilder();
        Challenge ch = new Challenge(ProtocolVersion.CURRENT, true, bytes(16, 0x30));
        ByteBuffer b = buf(Challenge.LENGTH);
        ch.encode(b);
        sb.append("CHALLENGE ").append(hex(b));
        assertThat(Challenge.decode(b.flip())).isEqualTo(ch);

        ReplicationSecret secret = ReplicationSecret.of("golden-secret-0123456789".getBytes(StandardCharsets.US_ASCII));
        SyncRequest req = new SyncRequest(
                ProtocolVersion.CURRENT,
                3,
                id(),
                0x1122334455L,
                bytes(16, 0x70),
                0x0A0B0C0D0E0F1011L,
                0x1122334466L,
                bytes(16, 0x50),
                "db1.example",
                7001,
                "10.0.0.7",
                6380,
                new byte[32]);
        req = req.withProof(secret.proof(SyncRequest.PROOF_ROLE, ch.nonce(), req.toBytes(), req.signedLength()));
        b = buf(req.length());
        req.encode(b);
        sb.append("SYNC_REQUEST ").append(hex(b));
        assertThat(SyncRequest.decode(b.flip())).isEqualTo(req);

        ShardInfo info = new ShardInfo(
                4,
                16,
                32,
                64,
                0,
                1000,
                id(),
                77,
                ShardInfo.CatchUpMode.PARTIAL_SCAN,
                0x2122232425262728L,
                SHARD_INFO_TERM,
                "10.0.0.5",
                6379,
                new byte[32]);
        info = info.withProof(
                secret.proof(ShardInfo.PROOF_ROLE, req.nonce(), req.toBytes(), info.toBytes(), info.signedLength()));
        b = buf(info.length());
        info.encode(b);
        sb.append("SHARD_INFO ").append(hex(b));
        assertThat(ShardInfo.decode(b.flip())).isEqualTo(info);

        CaughtUp cu = new CaughtUp(10, 9, 8);
        b = buf(CaughtUp.LENGTH);
        cu.encode(b);
        sb.append("CAUGHT_UP ").append(hex(b));
        assertThat(CaughtUp.decode(b.flip())).isEqualTo(cu);

        Ack ack = new Ack(500, 7);
        b = buf(Ack.LENGTH);
        ack.encode(b);
        sb.append("ACK ").append(hex(b));
        assertThat(Ack.decode(b.flip())).isEqualTo(ack);

        Heartbeat hb = new Heartbeat(42, HEARTBEAT_TERM, 123456789L);
        b = buf(Heartbeat.LENGTH);
        hb.encode(b);
        sb.append("HEARTBEAT ").append(hex(b));
        assertThat(Heartbeat.decode(b.flip())).isEqualTo(hb);

        ErrorMessage err = new ErrorMessage(ErrorCode.INVALID_SHARD, "invalid shard id 9");
        byte[] e = err.encode();
        sb.append("ERROR ").append(HexFormat.of().formatHex(e)).append('\n');
        assertThat(ErrorMessage.decode(ByteBuffer.wrap(e).order(ByteOrder.LITTLE_ENDIAN)))
                .isEqualTo(err);

        sb.append("TYPES");
        for (MessageType t : MessageType.values()) {
            sb.append(' ').append(t).append('=').append(t.code());
        }
        sb.append('\n');
        sb.append("ERROR_CODES");
        for (ErrorCode c : ErrorCode.values()) {
            sb.append(' ').append(c).append('=').append(c.code()).append(c.permanent() ? "/permanent" : "");
        }
        sb.append('\n');
        assertGolden("protocol-v" + ProtocolVersion.CURRENT + ".txt", sb.toString());
    }

    private static final long SHARD_INFO_TERM = 0x3132333435363738L;
    private static final long HEARTBEAT_TERM = 0x4142434445464748L;

    /** The bytes of {@code type}'s line in a golden file. */
    private static ByteBuffer goldenFrame(String file, String type) throws IOException {
        try (InputStream in = ProtocolGoldenTest.class.getResourceAsStream("/golden/" + file)) {
            assertThat(in).as("golden file %s", file).isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith(type + " ")) {
                    return ByteBuffer.wrap(HexFormat.of().parseHex(line.substring(type.length() + 1)))
                            .order(ByteOrder.LITTLE_ENDIAN);
                }
            }
        }
        throw new AssertionError("no " + type + " in " + file);
    }

    /**
     * The term sits where the documentation draws it, in the golden bytes themselves: a change that moved or dropped
     * it in both encode and decode (so that round trips still pass) fails here and in the golden comparison.
     */
    @Test
    void theTermIsAtItsDocumentedOffsets() throws IOException {
        String golden = "protocol-v" + ProtocolVersion.CURRENT + ".txt";
        ByteBuffer info = goldenFrame(golden, "SHARD_INFO");
        assertThat(ShardInfo.TERM_OFFSET).isEqualTo(64);
        assertThat(Heartbeat.TERM_OFFSET).isEqualTo(8);
        assertThat(info.getLong(64)).isEqualTo(SHARD_INFO_TERM);
        assertThat(info.getLong(56)).as("epoch before it").isEqualTo(0x2122232425262728L);
        assertThat(Short.toUnsignedInt(info.getShort(72)))
                .as("RESP port after it")
                .isEqualTo(6379);
        assertThat(info.remaining()).isEqualTo(80 + "10.0.0.5".length() + 32);
        ByteBuffer hb = goldenFrame(golden, "HEARTBEAT");
        assertThat(hb.remaining()).isEqualTo(24);
        assertThat(hb.getLong(0)).isEqualTo(42);
        assertThat(hb.getLong(8)).isEqualTo(HEARTBEAT_TERM);
        assertThat(hb.getLong(16)).isEqualTo(123456789L);
        assertThat(Heartbeat.decode(hb).term()).isEqualTo(HEARTBEAT_TERM);
    }

    /**
     * What a version 4 peer sends (its own golden frames, kept in protocol-v4.txt) is refused with PROTOCOL_VERSION,
     * naming both versions, before its length or anything else is looked at.
     */
    @Test
    void aVersion4PeerGetsAProtocolVersionError() throws IOException {
        ByteBuffer request = goldenFrame("protocol-v4.txt", "SYNC_REQUEST");
        assertThat(request.getShort(0)).as("the v4 golden is a v4 frame").isEqualTo((short) 4);
        assertThatThrownBy(() -> SyncRequest.decode(request))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL_VERSION))
                .hasMessageContaining("this side speaks 5, the follower 4");
        ByteBuffer challenge = goldenFrame("protocol-v4.txt", "CHALLENGE");
        assertThatThrownBy(() -> Challenge.decode(challenge))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL_VERSION))
                .hasMessageContaining("this side speaks 5, the leader 4");
    }

    @Test
    void negativeTermsAreMalformed() {
        ByteBuffer hb = buf(Heartbeat.LENGTH).putLong(8, -1);
        assertThatThrownBy(() -> Heartbeat.decode(hb))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED))
                .hasMessageContaining("term must be 0..");
        ByteBuffer info = buf(ShardInfo.FIXED_LENGTH + SyncRequest.PROOF_BYTES).putLong(ShardInfo.TERM_OFFSET, -5);
        assertThatThrownBy(() -> ShardInfo.decode(info))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED))
                .hasMessageContaining("got -5");
        assertThat(ErrorCode.ofCode(9)).isEqualTo(ErrorCode.STALE_TERM);
        assertThat(ErrorCode.STALE_TERM.permanent())
                .as("the follower keeps retrying a stale leader")
                .isFalse();
    }

    @Test
    void wrongLengthsAndModesAreRejected() {
        ByteBuffer shortRequest = buf(47).putShort(0, (short) ProtocolVersion.CURRENT);
        assertThatThrownBy(() -> SyncRequest.decode(shortRequest))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("120")
                .hasMessageContaining("47");
        // host lengths that claim more bytes than follow
        ByteBuffer longHosts = buf(120).putShort(0, (short) ProtocolVersion.CURRENT);
        longHosts.put(84, (byte) 200);
        assertThatThrownBy(() -> SyncRequest.decode(longHosts))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("232");
        // a host name with a control character
        ByteBuffer badHost = buf(121).putShort(0, (short) ProtocolVersion.CURRENT);
        badHost.put(84, (byte) 1).put(88, (byte) 10);
        assertThatThrownBy(() -> SyncRequest.decode(badHost))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("printable ASCII");
        ByteBuffer v3 = buf(104).putShort(0, (short) 3);
        assertThatThrownBy(() -> SyncRequest.decode(v3))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL_VERSION))
                .hasMessageContaining("this side speaks 5, the follower 3");
        ByteBuffer oldVersion = buf(48).putShort(0, (short) 2);
        assertThatThrownBy(() -> SyncRequest.decode(oldVersion))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL_VERSION))
                .hasMessageContaining(
                        "protocol version mismatch: this side speaks " + ProtocolVersion.CURRENT + ", the follower 2");
        ByteBuffer oldChallenge = buf(Challenge.LENGTH).putShort(0, (short) 9);
        assertThatThrownBy(() -> Challenge.decode(oldChallenge))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL_VERSION));
        ByteBuffer info = buf(ShardInfo.FIXED_LENGTH + SyncRequest.PROOF_BYTES);
        info.put(48, (byte) 9);
        assertThatThrownBy(() -> ShardInfo.decode(info)).hasMessageContaining("mode");
        ByteBuffer err = buf(6).putShort((short) 4).putShort((short) 100);
        assertThatThrownBy(() -> ErrorMessage.decode(err.flip())).isInstanceOf(ProtocolException.class);
        assertThat(MessageType.ofCode(0)).isNull();
        assertThat(MessageType.ofCode(200)).isNull();
    }

    private static void assertGolden(String name, String actual) throws IOException {
        if (WRITE) {
            Path p = Path.of("src/test/resources/golden", name);
            Files.createDirectories(p.getParent());
            Files.writeString(p, actual);
            return;
        }
        try (InputStream in = ProtocolGoldenTest.class.getResourceAsStream("/golden/" + name)) {
            assertThat(in).as("golden file %s", name).isNotNull();
            assertThat(actual).isEqualTo(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}
