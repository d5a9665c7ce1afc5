package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.ShardRouting;
import dev.armdb.index.KeyHash;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pins the on-disk format: db.meta, the shard header, slot images and the key hash (which routes keys to
 * shards). A change here is a format change: bump the format version and document it in docs/format.md. To
 * regenerate after a deliberate change, run with {@code -Darmdb.golden.write=true} from the module directory.
 */
class GoldenFormatTest {
    private static final boolean WRITE = Boolean.getBoolean("armdb.golden.write");

    @TempDir
    Path dir;

    private static DbMeta fixedMeta() {
        byte[] id = new byte[16];
        for (int i = 0; i < 16; i++) {
            id[i] = (byte) (0xA0 + i);
        }
        return new DbMeta(id, 4, 16, 32, ShardRouting.HASH, 1_700_000_000_000L);
    }

    private static void assertGolden(String name, String actual) throws IOException {
        if (WRITE) {
            Path p = Path.of("src/test/resources/golden", name);
            Files.createDirectories(p.getParent());
            Files.writeString(p, actual);
            return;
        }
        try (InputStream in = GoldenFormatTest.class.getResourceAsStream("/golden/" + name)) {
            assertThat(in).as("golden file %s", name).isNotNull();
            String expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(actual).as("golden file %s", name).isEqualTo(expected);
        }
    }

    private static String hexLines(byte[] bytes, int width) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < bytes.length; i += width) {
            sb.append(HexFormat.of().formatHex(bytes, i, Math.min(bytes.length, i + width)))
                    .append('\n');
        }
        return sb.toString();
    }

    @Test
    void dbMeta() throws IOException {
        byte[] encoded = fixedMeta().encode();
        assertThat(encoded).hasSize(DbMetaLayout.SIZE);
        assertGolden("db.meta.hex", hexLines(encoded, 16));
        assertThat(DbMeta.decode(encoded, Path.of("golden"))).isEqualTo(fixedMeta());
    }

    @Test
    void redoLog() throws IOException {
        DbMeta meta = fixedMeta();
        SimulatedDisk disk = new SimulatedDisk();
        ShardStorage[] files = {
            disk.opener().open(Path.of("golden", ShardLogLayout.fileName(3, 0)), false),
            disk.opener().open(Path.of("golden", ShardLogLayout.fileName(3, 1)), false)
        };
        ShardStorage staging = disk.opener().open(Path.of("golden", ShardLogLayout.stagingFileName(3)), false);
        ShardLog log = new ShardLog(files, staging, meta, 3, 4096, new FailStop());
        log.reset(0, 7);
        byte[] image = new byte[meta.slotSize()];
        for (int i = 0; i < image.length; i++) {
            image[i] = (byte) (i * 7 + 1);
        }
        java.nio.ByteBuffer.wrap(image).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(SlotLayout.LSN_OFFSET, 0x0102L);
        log.append(5, 0x0102L, image, 0);
        log.force();
        int record = ShardLogLayout.recordSize(meta.slotSize());
        java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(ShardLogLayout.HEADER_SIZE);
        files[0].read(header, 0);
        java.nio.ByteBuffer rec = java.nio.ByteBuffer.allocate(record);
        files[0].read(rec, ShardLogLayout.RECORDS_OFFSET);
        assertThat(header.array()).isEqualTo(ShardLog.encodeHeader(meta, 3, 7, 0, 0));
        assertGolden("shard.log.hex", hexLines(header.array(), 16) + "--\n" + hexLines(rec.array(), 16));
        java.nio.ByteBuffer staged = java.nio.ByteBuffer.allocate(record);
        staging.read(staged, 0);
        assertThat(staged.array()).as("the staging file's first record").isEqualTo(rec.array());
        // a later generation's header names where the previous one ends
        assertGolden(
                "shard.log.switched.hex",
                hexLines(ShardLog.encodeHeader(meta, 3, 8, 7, ShardLogLayout.RECORDS_OFFSET + record), 16));
        log.close();
    }

    @Test
    void epochState() throws IOException {
        long[] ids = {0x0102030405060708L, -2L, 0x1122334455667788L};
        byte[] encoded = EpochStateLayout.encode(ids);
        assertThat(encoded).hasSize(EpochStateLayout.size(3));
        assertThat(EpochStateLayout.decode(encoded)).containsExactly(ids);
        encoded[13] ^= 1;
        assertThatThrownBy(() -> EpochStateLayout.decode(encoded)).hasMessageContaining("CRC");
        encoded[13] ^= 1;
        assertThatThrownBy(() -> EpochStateLayout.decode(java.util.Arrays.copyOf(encoded, 20)))
                .hasMessageContaining("found 20");
        assertGolden("db.epoch.hex", hexLines(encoded, 16));
    }

    @Test
    void termState() throws IOException {
        long term = 0x0102030405060708L;
        byte[] encoded = TermStateLayout.encode(term);
        assertThat(encoded).hasSize(TermStateLayout.SIZE);
        assertThat(TermStateLayout.decode(encoded)).isEqualTo(term);
        // the documented offsets, read from the encoded bytes, so the drawing and the code cannot drift apart
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(encoded).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getLong(16)).isEqualTo(term);
        assertThat(b.getInt(8)).isEqualTo(TermStateLayout.FORMAT_VERSION);
        assertGolden("db.term.hex", hexLines(encoded, 16));
    }

    @Test
    void shardHeader() throws IOException {
        assertGolden("shard-header.hex", hexLines(ShardFile.encodeHeader(fixedMeta(), 2), 16));
    }

    @Test
    void slotImagesOfPutUpdateDelete() throws IOException {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(16)
                .valueSize(32)
                .shards(1)
                .durability(Durability.NONE)
                .growthStepBytes(4096)
                .build();
        byte[] key = new byte[16];
        byte[] v1 = new byte[32];
        byte[] v2 = new byte[32];
        for (int i = 0; i < 32; i++) {
            if (i < 16) {
                key[i] = (byte) i;
            }
            v1[i] = (byte) (0x20 + i);
            v2[i] = (byte) (0x60 + i);
        }
        try (FixedMap map = FixedMap.open(dir, cfg)) {
            assertThat(map.put(key, v1)).isEqualTo(1);
            assertThat(map.put(key, v2)).isEqualTo(2);
            assertThat(map.delete(key)).isPositive();
        }
        byte[] file = Files.readAllBytes(dir.resolve(ShardFileLayout.fileName(0)));
        int slot = SlotLayout.slotSize(16, 32);
        byte[] slots = Arrays.copyOfRange(file, ShardFileLayout.HEADER_SIZE, ShardFileLayout.HEADER_SIZE + 3 * slot);
        // slot 0: the tombstone (DELETED, LSN 4, zero value), written copy-on-write into the slot released at
        // LSN 3; slot 1: FREE (v2's slot, released at LSN 5 after the tombstone); slot 2: never written
        assertGolden("slots-k16-v32.hex", hexLines(slots, 16));
    }

    @Test
    void keyHashAndRouting() throws IOException {
        StringBuilder sb = new StringBuilder();
        FixedConfig cfg =
                FixedConfig.builder().keySize(8).valueSize(0).shards(7).build();
        try (Store store = Store.open(dir, cfg)) {
            for (int len : new int[] {1, 7, 8, 9, 16, 33}) {
                byte[] k = new byte[len];
                for (int i = 0; i < len; i++) {
                    k[i] = (byte) (i * 37 + len);
                }
                long h = KeyHash.hash(k);
                sb.append(HexFormat.of().formatHex(k))
                        .append(' ')
                        .append(Long.toHexString(h))
                        .append(" shard/7=")
                        .append(store.shardOf(k, h))
                        .append('\n');
            }
        }
        assertGolden("keyhash.txt", sb.toString());
    }
}
