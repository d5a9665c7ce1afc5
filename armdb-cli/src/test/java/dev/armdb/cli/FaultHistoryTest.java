package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.cli.FaultHistory.Outcome;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fault tests' checker on hand-made histories: what it accepts and each violation it must catch. */
class FaultHistoryTest {
    private final FaultHistory h = new FaultHistory();

    private void write(String key, String value, long start, long end, String reply) {
        h.record(new FaultHistory.Write("w", "n1", key, value, start, end, FaultHistory.classify(reply), reply));
    }

    @Test
    void repliesAreClassified() {
        assertThat(FaultHistory.classify("+OK")).isEqualTo(Outcome.ACKED);
        assertThat(FaultHistory.classify("-TRYAGAIN lease")).isEqualTo(Outcome.REFUSED);
        assertThat(FaultHistory.classify("-READONLY You can't")).isEqualTo(Outcome.REFUSED);
        assertThat(FaultHistory.classify("-NOREPLICAS Not enough good replicas"))
                .isEqualTo(Outcome.REFUSED);
        assertThat(FaultHistory.classify("-NOREPLICAS the write was applied ...: its outcome is unknown"))
                .isEqualTo(Outcome.UNKNOWN);
        assertThat(FaultHistory.classify(null)).isEqualTo(Outcome.UNKNOWN);
    }

    @Test
    void acceptWindowsOfDifferentTermsMustNotOverlap() {
        h.window("n1", 1, 100, 200);
        h.window("n2", 2, 300, 400);
        h.window("n1", 1, 150, 250);
        h.assertNeverTwoLeaders();
        h.window("n1", 3, 500, 600);
        h.assertNeverTwoLeaders();
        h.window("n1", 1, 100, 301);
        assertThatThrownBy(h::assertNeverTwoLeaders).hasMessageContaining("term 1 (node n1) accepted a write");
    }

    @Test
    void aNodeClockOutsideTheTestsReadsFails() {
        h.clockSkew("n1 read 5 between 10 and 20");
        assertThatThrownBy(h::assertNeverTwoLeaders).hasMessageContaining("n1 read 5");
    }

    @Test
    void acknowledgedWritesMustSurviveUnlessOverwritten() {
        write("k1", "a", 10, 20, "+OK");
        write("k1", "b", 30, 40, "+OK");
        write("k2", "c", 10, 20, "+OK");
        write("k2", "d", 15, 25, "+OK");
        write("k3", "e", 10, 20, "+OK");
        write("k3", "f", 30, 40, null);
        Map<String, String> finals = new HashMap<>();
        finals.put("k1", "b");
        // concurrent acknowledged writes: either may be last
        finals.put("k2", "c");
        // a later write of unknown outcome may have been applied
        finals.put("k3", "f");
        assertThat(h.assertAcknowledgedWritesKept(finals)).isEqualTo(5);

        finals.put("k1", "a");
        assertThatThrownBy(() -> h.assertAcknowledgedWritesKept(finals)).hasMessageContaining("k1: acknowledged");
        finals.put("k1", null);
        assertThatThrownBy(() -> h.assertAcknowledgedWritesKept(finals)).hasMessageContaining("k1: absent");
        finals.put("k1", "zzz");
        assertThatThrownBy(() -> h.assertAcknowledgedWritesKept(finals)).hasMessageContaining("which no client");
    }

    @Test
    void theKeysToReadBackAreEveryKeyWrittenOnceInOrder() {
        write(FaultLoad.ownKey(7), "a", 10, 20, "+OK");
        write(FaultLoad.key(3), "b", 11, 21, "+OK");
        write(FaultLoad.ownKey(9), "c", 12, 22, null);
        write(FaultLoad.key(3), "d", 13, 23, "-READONLY You can't");
        assertThat(h.keys()).containsExactly(FaultLoad.ownKey(7), FaultLoad.key(3), FaultLoad.ownKey(9));
        // the server's key size
        assertThat(FaultLoad.ownKey(999_999_999_999L)).hasSize(16);
        assertThat(FaultLoad.key(FaultLoad.KEYS - 1)).hasSize(16);
    }

    @Test
    void anAcknowledgedWriteToAKeyOfItsOwnMustBeThere() {
        write(FaultLoad.ownKey(1), "a", 10, 20, "+OK");
        write(FaultLoad.key(0), "b", 12, 22, "+OK");
        write(FaultLoad.key(0), "c", 30, 40, "+OK");
        Map<String, String> finals = new HashMap<>();
        finals.put(FaultLoad.key(0), "c");
        finals.put(FaultLoad.ownKey(1), null);
        assertThatThrownBy(() -> h.assertAcknowledgedWritesKept(finals))
                .hasMessageContaining(FaultLoad.ownKey(1) + ": absent");
        finals.put(FaultLoad.ownKey(1), "a");
        assertThat(h.assertAcknowledgedWritesKept(finals)).isEqualTo(3);
    }

    @Test
    void aRefusedWriteMustNotBeApplied() {
        write("k1", "a", 10, 20, "+OK");
        write("k1", "b", 30, 40, "-TRYAGAIN lease ran out");
        write("k2", "c", 30, 40, "-READONLY You can't");
        Map<String, String> finals = new HashMap<>();
        finals.put("k1", "a");
        finals.put("k2", null);
        h.assertAcknowledgedWritesKept(finals);
        finals.put("k2", "c");
        assertThatThrownBy(() -> h.assertAcknowledgedWritesKept(finals))
                .hasMessageContaining("k2: holds the value of a refused");
        finals.put("k2", null);
        finals.put("k1", "b");
        assertThatThrownBy(() -> h.assertAcknowledgedWritesKept(finals))
                .hasMessageContaining("k1: holds the value of a refused");
    }
}
