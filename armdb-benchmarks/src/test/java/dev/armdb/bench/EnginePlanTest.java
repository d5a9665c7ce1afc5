package dev.armdb.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Benchmark;

class EnginePlanTest {
    /** Every (store class, benchmark method) pair that exists. */
    private static Set<String> allBenchmarks() throws ClassNotFoundException {
        Set<String> all = new HashSet<>();
        for (String store : EnginePlan.ALL_STORES) {
            for (Method m : Class.forName("dev.armdb.bench." + store).getMethods()) {
                if (m.isAnnotationPresent(Benchmark.class)) {
                    all.add("dev.armdb.bench." + store + "." + m.getName());
                }
            }
        }
        return all;
    }

    private static Set<String> covered(List<EnginePlan.Run> runs, Set<String> all) {
        Set<String> covered = new HashSet<>();
        for (EnginePlan.Run run : runs) {
            Pattern p = Pattern.compile(run.pattern());
            all.stream().filter(b -> p.matcher(b).find()).forEach(covered::add);
        }
        return covered;
    }

    @Test
    void quickRunsEveryBenchmarkMethodOfEveryStore() throws Exception {
        Set<String> all = allBenchmarks();
        assertThat(all).contains("dev.armdb.bench.ChmBench.iterate", "dev.armdb.bench.LmdbBench.scan100");
        assertThat(covered(EnginePlan.plan("quick"), all)).isEqualTo(all);
        assertThat(covered(EnginePlan.plan("full"), all)).isEqualTo(all);
    }

    @Test
    void quickCoversBothShapesBothAccessPatternsAndBothThreadCounts() {
        for (String mode : List.of("quick", "full")) {
            Set<String> shapes = new HashSet<>();
            Set<String> access = new HashSet<>();
            Set<Integer> threads = new HashSet<>();
            for (EnginePlan.Run run : EnginePlan.plan(mode)) {
                shapes.addAll(List.of(run.params().get("shape")));
                access.addAll(List.of(run.params().get("access")));
                threads.add(run.threads());
            }
            assertThat(shapes).as(mode).containsExactlyInAnyOrder("16x32", "8x256");
            assertThat(access).as(mode).containsExactlyInAnyOrder("random", "sequential");
            assertThat(threads).as(mode).containsExactlyInAnyOrder(1, 2);
        }
        assertThatThrownBy(() -> EnginePlan.plan("huge")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void userPatternsNarrowARunInsteadOfAddingToIt() {
        EnginePlan.Run run = EnginePlan.plan("quick").get(0);
        Pattern p = Pattern.compile(EnginePlan.narrowed(run.pattern(), List.of("LmdbBench", "ChmBench")));
        assertThat(p.matcher("dev.armdb.bench.LmdbBench.get").find()).isTrue();
        assertThat(p.matcher("dev.armdb.bench.ChmBench.insert").find()).isTrue();
        assertThat(p.matcher("dev.armdb.bench.ArmdbMapBench.get").find()).isFalse();
        assertThat(p.matcher("dev.armdb.bench.LmdbBench.scan100").find())
                .as("not a method of this run")
                .isFalse();
        assertThat(EnginePlan.narrowed(run.pattern(), List.of())).isEqualTo(run.pattern());
    }

    @Test
    void aLaterSingleValuedOptionReplacesTheModesValue() {
        String[] args = {"-f", "3", "-wi", "3", "-i", "5", "-prof", "gc", "-f", "1", "-i", "2", "-prof", "stack"};
        assertThat(EnginePlan.lastParameterWins(args))
                .containsExactly("-wi", "3", "-prof", "gc", "-f", "1", "-i", "2", "-prof", "stack");
    }

    @Test
    void aLaterParameterReplacesTheModesValue() {
        String[] args = {
            "-f", "3", "-p", "keys=1000000,10000000", "-prof", "gc", "Armdb", "-p", "keys=10000", "-p", "shape=8x256"
        };
        assertThat(EnginePlan.lastParameterWins(args))
                .containsExactly("-f", "3", "-prof", "gc", "Armdb", "-p", "keys=10000", "-p", "shape=8x256");
    }
}
