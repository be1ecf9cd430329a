package org.example.plugins;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps the plugins of one application, by name.
 *
 * Not thread-safe: register everything at start-up.
 */
public class PluginRegistry {
    private static final int MAX_PLUGINS = 32;

    private final Map<String, Plugin> plugins = new HashMap<>();

    /**
     * Adds a plugin under a unique name.
     *
     * @param name the plugin's name
     * @param plugin the plugin
     */
    public void register(String name, Plugin plugin) {
        if (plugins.containsKey(name)) {
            throw new IllegalStateException("duplicate plugin: " + name);
        }
        if (plugins.size() >= MAX_PLUGINS) {
            throw new IllegalStateException("too many plugins");
        }
        plugins.put(name, plugin);
    }

    /** All registered plugins, read-only. */
    public Collection<Plugin> all() {
        Collection<Plugin> values = plugins.values();
        return Collections.unmodifiableCollection(plugins.values());
    }

    public interface Plugin {
        void start();
        void stop();
    }
}
