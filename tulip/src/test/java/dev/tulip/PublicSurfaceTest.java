package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Pins the public surface: the packages module dev.tulip exports, and every public type in them. A new public type
 * (or a removed one) fails this test until the list in {@code src/test/resources/public-api/PACKAGE.txt} is updated:
 * growing the API is a visible decision.
 */
class PublicSurfaceTest {

    private static Path classesDir() throws URISyntaxException {
        return Path.of(EventLoop.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static Set<String> exportedPackages() throws Exception {
        try (InputStream in = Files.newInputStream(classesDir().resolve("module-info.class"))) {
            ModuleDescriptor d = ModuleDescriptor.read(in);
            assertEquals("dev.tulip", d.name());
            return d.exports().stream().map(e -> {
                assertEquals(Set.of(), e.targets(), "qualified exports are not part of the public API: " + e);
                return e.source();
            }).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static List<String> expected(String pkg) throws IOException {
        try (InputStream in = PublicSurfaceTest.class.getResourceAsStream("/public-api/" + pkg + ".txt")) {
            if (in == null) {
                return List.of();
            }
            return new String(in.readAllBytes()).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).sorted().toList();
        }
    }

    private static List<String> actual(String pkg) throws Exception {
        Path dir = classesDir().resolve(pkg.replace('.', '/'));
        TreeSet<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String simple = p.getFileName().toString().replace(".class", "");
                if (simple.equals("package-info")) {
                    continue;
                }
                Class<?> c = Class.forName(pkg + "." + simple, false, PublicSurfaceTest.class.getClassLoader());
                if (isPublicApi(c)) {
                    names.add(c.getName().substring(pkg.length() + 1));
                }
            }
        }
        return List.copyOf(names);
    }

    /** Public, and (for nested types) reachable: every enclosing type public too. */
    private static boolean isPublicApi(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
            if (!Modifier.isPublic(k.getModifiers()) || k.isAnonymousClass() || k.isLocalClass() || k.isSynthetic()) {
                return false;
            }
        }
        return true;
    }

    @Test
    void exportedPackagesArePinned() throws Exception {
        Set<String> expectedPackages = new TreeSet<>(expected("packages"));
        assertEquals(expectedPackages, exportedPackages(),
                "module dev.tulip exports changed: update src/test/resources/public-api/packages.txt");
        for (String pkg : exportedPackages()) {
            assertEquals(!pkg.contains(".internal"), true, "internal package exported: " + pkg);
        }
    }

    @Test
    void publicTypesArePinned() throws Exception {
        for (String pkg : exportedPackages()) {
            assertEquals(expected(pkg), actual(pkg), "public types of " + pkg
                    + " changed: update src/test/resources/public-api/" + pkg + ".txt (one type per line, nested as Outer$Inner)");
        }
    }
}
