package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RespCommandTableTest {
    @Test
    void everyCommandIsFoundInAnyCaseAndOnlyOnce() {
        Set<String> names = new HashSet<>();
        for (RespCommandTable.Spec s : RespCommandTable.all()) {
            assertThat(names.add(s.name())).as("unique %s", s.name()).isTrue();
            assertThat(s.name()).isUpperCase();
            assertThat(RespCommandTable.find(s.name().toLowerCase(java.util.Locale.ROOT)))
                    .isSameAs(s);
            assertThat(RespCommandTable.find(s.name())).isSameAs(s);
            assertThat(s.id()).isEqualTo(RespCommandTable.all().indexOf(s));
            assertThat(s.arity()).as(s.name()).isNotZero();
            assertThat(s.summary()).isNotBlank();
            if (s.firstKey() > 0) {
                assertThat(s.step()).as("%s has a key step", s.name()).isPositive();
            }
        }
        assertThat(RespCommandTable.find("NOSUCH")).isNull();
        assertThat(RespCommandTable.find(new byte[0])).isNull();
        assertThat(RespCommandTable.find("GE")).isNull();
        assertThat(RespCommandTable.find("GETT")).isNull();
        assertThat(RespCommandTable.find("gEt".getBytes(StandardCharsets.US_ASCII))
                        .name())
                .isEqualTo("GET");
    }

    /**
     * A request's name is looked up where it lies in the input buffer: every name, in random case, between random
     * bytes at a random offset, is found; the same slice one byte shorter or longer is not that command. Seeded:
     * re-run with -Darmdb.test.seed=N.
     */
    @Test
    void namesAreFoundInPlaceInsideALargerBuffer() {
        long seed = Long.getLong("armdb.test.seed", System.nanoTime());
        System.out.println("namesAreFoundInPlaceInsideALargerBuffer seed=" + seed);
        java.util.Random rnd = new java.util.Random(seed);
        for (int round = 0; round < 50; round++) {
            for (RespCommandTable.Spec s : RespCommandTable.all()) {
                byte[] name = s.name().getBytes(StandardCharsets.US_ASCII);
                byte[] buf = new byte[name.length + 2 + rnd.nextInt(16)];
                rnd.nextBytes(buf);
                int off = 1 + rnd.nextInt(buf.length - name.length - 1);
                for (int i = 0; i < name.length; i++) {
                    boolean lower = rnd.nextBoolean() && name[i] >= 'A' && name[i] <= 'Z';
                    buf[off + i] = (byte) (lower ? name[i] + 32 : name[i]);
                }
                assertThat(RespCommandTable.find(buf, off, name.length))
                        .as("seed %d", seed)
                        .isSameAs(s);
                assertThat(RespCommandTable.find(buf, off, name.length - 1)).isNotSameAs(s);
                assertThat(RespCommandTable.find(buf, off, name.length + 1)).isNotSameAs(s);
                assertThat(RespCommandTable.find(buf, off - 1, name.length)).isNotSameAs(s);
            }
        }
    }

    @Test
    void keyPositionsAndArity() {
        RespCommandTable.Spec mset = RespCommandTable.find("MSET");
        assertThat(mset.firstKey()).isEqualTo(1);
        assertThat(mset.lastKeyIn(7))
                .as("Redis counts -1 as the last argument; the step skips values")
                .isEqualTo(6);
        assertThat(mset.step()).isEqualTo(2);
        assertThat(mset.arityAccepts(2)).isFalse();
        assertThat(mset.arityAccepts(3)).isTrue();
        RespCommandTable.Spec get = RespCommandTable.find("GET");
        assertThat(get.arityAccepts(2)).isTrue();
        assertThat(get.arityAccepts(3)).isFalse();
        assertThat(get.lastKeyIn(2)).isEqualTo(1);
        assertThat(RespCommandTable.reportedFlags(get)).containsExactly("readonly", "fast");
        assertThat(RespCommandTable.reportedFlags(RespCommandTable.find("FLUSHALL")))
                .doesNotContain("may_wait", "all_keys");
        assertThat(RespCommandTable.find("WATCH").has(RespCommandTable.Flag.WRITE))
                .isFalse();
        assertThat(RespCommandTable.find("SET").has(RespCommandTable.Flag.WRITE))
                .isTrue();
    }
}
