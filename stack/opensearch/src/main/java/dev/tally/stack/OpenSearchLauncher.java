package dev.tally.stack;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

import sun.misc.Signal;

/**
 * Runs a single real OpenSearch node inside this JVM, for the local stack.
 *
 * <p>Why embedded: the OpenSearch distribution tarball is not reachable here (no Docker, only
 * Maven Central), but the server and the core modules are published as plain jars. Starting
 * {@link Node} directly skips what the distribution's Bootstrap adds (bootstrap checks, jar-hell
 * check, security manager), which is fine for a dev/test node bound to loopback only.
 *
 * <p>Options are {@code --name value} arguments, each also settable as the system property
 * {@code tally.opensearch.<name>}; arguments win:
 * <ul>
 *   <li>{@code --home}  path.home; config/, modules/, plugins/ are created under it (required)</li>
 *   <li>{@code --data}  path.data (default: {@code <home>/data})</li>
 *   <li>{@code --port}  HTTP port (default 9200)</li>
 *   <li>{@code --transport-port}  node-to-node port (default: HTTP port + 100)</li>
 * </ul>
 * It runs in the foreground and logs to stdout; SIGTERM or SIGINT closes the node and exits 0.
 */
public final class OpenSearchLauncher {

    /**
     * Node's public constructor only loads plugins from the plugins/ and modules/ directories,
     * which we do not have (modules come as jars on our classpath). The protected constructor
     * takes classpath plugin classes, which is what the test framework's MockNode uses too.
     */
    static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            // forbidPrivateIndexSettings=true: behave like a production node, which rejects
            // private index settings (e.g. index.version.created) in create-index requests.
            super(environment, plugins, true);
        }
    }

    /** The modules a stock distribution ships that the stack's code relies on. */
    private static final List<Class<? extends Plugin>> PLUGINS = List.of(
        Netty4Plugin.class,          // http + transport; without it there is no REST endpoint
        CommonAnalysisPlugin.class,  // analyzers, tokenizers, normalizers beyond "standard"
        PainlessPlugin.class,        // scripts in _update, _bulk, sort, update_by_query
        ReindexPlugin.class,         // _reindex, _update_by_query, _delete_by_query
        MapperExtrasPlugin.class     // scaled_float, rank_feature, search_as_you_type, ...
    );

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable t) {
            // Exit explicitly: after a failure in the Node constructor or start(), non-daemon
            // threads (thread pools, netty) could keep a half-started process alive, and the
            // stack CLI would wait for health until its timeout instead of seeing the crash.
            System.err.println("opensearch: node failed: " + t);
            t.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    private static void run(String[] args) throws Exception {
        Path home = Paths.get(option(args, "home", null)).toAbsolutePath();
        Path data = Paths.get(option(args, "data", home.resolve("data").toString())).toAbsolutePath();
        int httpPort = Integer.parseInt(option(args, "port", "9200"));
        int transportPort = Integer.parseInt(option(args, "transport-port", String.valueOf(httpPort + 100)));
        String nodeName = "tally-opensearch";

        // PluginsService lists modules/ and plugins/ (both stay empty: our plugins come from the
        // classpath) and fails if they are missing; config/ receives log4j2.properties below.
        for (String dir : new String[] {"config", "modules", "plugins", "logs"}) {
            Files.createDirectories(home.resolve(dir));
        }
        Files.createDirectories(data);

        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "tally")
            .put("node.name", nodeName)
            // One node that elects itself; no discovery of peers, no initial master list.
            .put("discovery.type", "single-node")
            // Loopback only, for both HTTP and transport: this is a developer/CI node.
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            // Netty4Plugin registers these names; set explicitly so a missing plugin fails loudly
            // instead of silently running without HTTP.
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            // Dev disks are often >90% full; the disk watermarks would then block shard
            // allocation (red/yellow forever) or make indices read-only.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();

        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), home.resolve("config"), () -> nodeName);

        // Without a log4j config OpenSearch logs nothing but errors (configureWithoutConfig only
        // sets levels, it adds no appender), so a failed start would be silent. Install our
        // console config and let LogConfigurator load it the way the distribution does.
        // The node name must be set before the %node_name converter in the pattern runs.
        try (InputStream in = OpenSearchLauncher.class.getResourceAsStream("log4j2.properties")) {
            Files.copy(in, environment.configFile().resolve("log4j2.properties"), StandardCopyOption.REPLACE_EXISTING);
        }
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.configure(environment);

        Node node = new EmbeddedNode(environment, PLUGINS);
        CountDownLatch stop = new CountDownLatch(1);
        AtomicBoolean closed = new AtomicBoolean();

        // The JVM's default SIGTERM handling exits with 143 while hooks run; the CLI's `stop`
        // should see a clean exit, so we take TERM/INT ourselves, close, then exit(0).
        // (Before this point, i.e. during the ~10 s constructor, TERM keeps the default and just
        // ends the JVM: nothing is written yet, and the OS releases the data dir's node lock.)
        Signal.handle(new Signal("TERM"), sig -> stop.countDown());
        Signal.handle(new Signal("INT"), sig -> stop.countDown());
        // Still close on any other JVM shutdown (e.g. SIGHUP), so Lucene commits and the node
        // lock is released rather than left for the next start to trip over.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> closeNode(node, closed), "opensearch-shutdown"));

        try {
            node.start();
            // A single node can never place replicas, so every index would stay yellow. The
            // default replica count is read from the cluster state's persistent settings, not
            // from node settings (putting it in `settings` above is accepted but has no effect),
            // hence an API call once the node has elected itself. Indices that ask for replicas
            // still get them.
            node.client().admin().cluster().prepareUpdateSettings()
                .setPersistentSettings(Settings.builder().put("cluster.default_number_of_replicas", 0))
                .get();
        } catch (Exception e) {
            closeNode(node, closed);
            throw e;
        }
        System.out.println("opensearch: started on http://127.0.0.1:" + httpPort
            + " (transport " + transportPort + ", data " + data + ")");

        stop.await();
        System.out.println("opensearch: stopping");
        closeNode(node, closed);
        System.out.println("opensearch: stopped");
    }

    private static void closeNode(Node node, AtomicBoolean closed) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            node.close();
            // close() only initiates stopping some services; wait so the data dir is consistent
            // and the ports are released before the process goes away.
            if (!node.awaitClose(30, TimeUnit.SECONDS)) {
                System.err.println("opensearch: node did not close within 30s");
            }
        } catch (IOException | InterruptedException e) {
            System.err.println("opensearch: error while closing node: " + e);
        }
    }

    /** {@code --name value} from args, else system property tally.opensearch.name, else fallback. */
    private static String option(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--" + name)) {
                return args[i + 1];
            }
        }
        String value = System.getProperty("tally.opensearch." + name, fallback);
        if (value == null) {
            throw new IllegalArgumentException("missing --" + name + " (or -Dtally.opensearch." + name + ")");
        }
        return value;
    }
}
