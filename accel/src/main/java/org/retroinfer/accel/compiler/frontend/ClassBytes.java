package org.retroinfer.accel.compiler.frontend;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The class file of a loaded class: its bytes, their SHA-256 (the compile cache key) and the parsed model. */
public record ClassBytes(Class<?> type, byte[] bytes, String sha256, ClassModel model) {
    private static final Map<Class<?>, ClassBytes> CACHE = new ConcurrentHashMap<>();

    /** Reads {@code type}'s class file through its class loader (cached: class bytes never change in a JVM). */
    public static ClassBytes of(Class<?> type) {
        return CACHE.computeIfAbsent(type, ClassBytes::read);
    }

    private static ClassBytes read(Class<?> type) {
        String resource = type.getName().replace('.', '/') + ".class";
        ClassLoader loader = type.getClassLoader() != null ? type.getClassLoader() : ClassLoader.getSystemClassLoader();
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("cannot read the class file of " + type.getName() + " (" + resource
                        + " is not a resource of its class loader); kernels must be loaded from class files");
            }
            byte[] bytes = in.readAllBytes();
            return new ClassBytes(type, bytes, sha256(bytes), ClassFile.of().parse(bytes));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the class file of " + type.getName(), e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
