package dev.tulip.internal.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Keys and certificates made at test time with the running JDK's {@code keytool}: a CA, a server certificate it
 * signed for localhost / 127.0.0.1 / ::1, a certificate it signed for another name, and an untrusted CA with a
 * localhost certificate of its own. PEM copies (certificate chain and PKCS#8 key) serve openssl, curl and Python.
 * Made once per test JVM in a temporary directory.
 */
final class TestCerts {
    static final String PASS = "changeit";
    private static TestCerts instance;

    final Path dir;
    /** Trusts only the test CA. */
    final SSLContext clientContext;
    /** Serves the localhost certificate signed by the test CA (and trusts the test CA, for client auth tests). */
    final SSLContext serverContext;
    /** Serves a certificate signed by the test CA for "wrong.example". */
    final SSLContext wrongNameServerContext;
    /** Serves a localhost certificate signed by a CA nobody trusts. */
    final SSLContext untrustedServerContext;
    /** A client with a certificate signed by the test CA (client auth). */
    final SSLContext clientWithCertContext;

    private TestCerts(Path dir, boolean make) throws Exception {
        this.dir = dir;
        if (make) {
            makeCa("ca", "CN=Tulip Test CA");
            makeCa("evilca", "CN=Untrusted Test CA");
            makeLeaf("server", "ca", "CN=localhost", "SAN=dns:localhost,ip:127.0.0.1,ip:::1");
            makeLeaf("wrong", "ca", "CN=wrong.example", "SAN=dns:wrong.example");
            makeLeaf("evil", "evilca", "CN=localhost", "SAN=dns:localhost,ip:127.0.0.1,ip:::1");
            makeLeaf("client", "ca", "CN=tulip client", null);
        }
        clientContext = context(null, "ca");
        serverContext = context("server", "ca");
        wrongNameServerContext = context("wrong", "ca");
        untrustedServerContext = context("evil", "ca");
        clientWithCertContext = context("client", "ca");
    }

    static synchronized TestCerts get() {
        if (instance == null) {
            try {
                // Cached under target/ for a week: keytool costs a JVM start per step.
                Path dir = Path.of("target", "tls-test-certs").toAbsolutePath();
                Path done = dir.resolve("done");
                if (Files.exists(done) && Files.getLastModifiedTime(done).toMillis()
                        > System.currentTimeMillis() - TimeUnit.DAYS.toMillis(7)) {
                    instance = new TestCerts(dir, false);
                } else {
                    if (Files.exists(dir)) {
                        try (var files = Files.list(dir)) {
                            for (Path f : files.toList()) {
                                Files.delete(f);
                            }
                        }
                    }
                    Files.createDirectories(dir);
                    instance = new TestCerts(dir, true);
                    Files.writeString(done, "ok");
                }
            } catch (Exception e) {
                throw new IllegalStateException("cannot make test certificates", e);
            }
        }
        return instance;
    }

    Path caPem() {
        return dir.resolve("ca.pem");
    }

    Path chainPem(String name) {
        return dir.resolve(name + "-chain.pem");
    }

    Path keyPem(String name) {
        return dir.resolve(name + "-key.pem");
    }

    private void makeCa(String alias, String dname) throws Exception {
        keytool("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", dname,
                "-ext", "bc:c", "-validity", "30", "-keystore", ks(alias), "-storepass", PASS, "-storetype", "PKCS12");
        keytool("-exportcert", "-rfc", "-alias", alias, "-keystore", ks(alias), "-storepass", PASS,
                "-file", dir.resolve(alias + ".pem").toString());
    }

    private void makeLeaf(String alias, String ca, String dname, String san) throws Exception {
        keytool("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", dname,
                "-validity", "30", "-keystore", ks(alias), "-storepass", PASS, "-storetype", "PKCS12");
        Path csr = dir.resolve(alias + ".csr");
        keytool("-certreq", "-alias", alias, "-keystore", ks(alias), "-storepass", PASS, "-file", csr.toString());
        Path cert = dir.resolve(alias + ".pem");
        List<String> gen = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", ca, "-keystore", ks(ca),
                "-storepass", PASS, "-infile", csr.toString(), "-outfile", cert.toString(), "-validity", "30"));
        if (san != null) {
            gen.add("-ext");
            gen.add(san);
        }
        keytool(gen.toArray(String[]::new));
        String chain = Files.readString(cert) + Files.readString(dir.resolve(ca + ".pem"));
        Files.writeString(chainPem(alias), chain);
        keytool("-importcert", "-noprompt", "-alias", ca, "-file", dir.resolve(ca + ".pem").toString(),
                "-keystore", ks(alias), "-storepass", PASS);
        keytool("-importcert", "-noprompt", "-alias", alias, "-file", chainPem(alias).toString(),
                "-keystore", ks(alias), "-storepass", PASS);
        KeyStore k = load(alias);
        PrivateKey key = (PrivateKey) k.getKey(alias, PASS.toCharArray());
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        Files.writeString(keyPem(alias), pem);
    }

    private String ks(String alias) {
        return dir.resolve(alias + ".p12").toString();
    }

    private KeyStore load(String alias) throws Exception {
        KeyStore k = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(Path.of(ks(alias)))) {
            k.load(in, PASS.toCharArray());
        }
        return k;
    }

    private SSLContext context(String keyAlias, String trustAlias) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry(trustAlias, load(trustAlias).getCertificate(trustAlias));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (keyAlias != null) {
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            KeyStore only = KeyStore.getInstance("PKCS12");
            only.load(null, null);
            KeyStore src = load(keyAlias);
            only.setKeyEntry(keyAlias, src.getKey(keyAlias, PASS.toCharArray()), PASS.toCharArray(),
                    src.getCertificateChain(keyAlias));
            kmf.init(only, PASS.toCharArray());
        }
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return c;
    }

    private void keytool(String... args) throws IOException, InterruptedException {
        Path bin = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> cmd = new ArrayList<>();
        cmd.add(bin.toString());
        cmd.add("-J-Xshare:auto");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("keytool failed: " + cmd + "\n" + new String(out, StandardCharsets.UTF_8));
        }
    }
}
