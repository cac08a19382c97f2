package dev.segsa.example;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * segsa-core carries no FFmpeg (README, "Footprint"): video in and out is the segsa-video
 * artifact. This module's test classpath is segsa-core's own dependencies, so FFmpeg's and
 * JavaCV's classes must not load here, while the engine's own (RecorderExample runs it) do.
 */
class CoreFootprintTest {
    @Test
    void ffmpegAndJavaCvAreNotOnSegsaCoresClasspath() {
        for (String name : new String[] {"org.bytedeco.ffmpeg.global.avformat", "org.bytedeco.javacv.FFmpegFrameGrabber",
                "dev.segsa.video.VideoSource", "dev.segsa.videoscore.SegsaVideo"}) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName(name, false, getClass().getClassLoader()),
                    name + " is on segsa-core's classpath: a recorder that scores buffers would carry FFmpeg");
        }
    }

    @Test
    void theEngineLoadsWithoutThem() throws Exception {
        assertNotNull(Class.forName("dev.segsa.Segsa", false, getClass().getClassLoader()));
        assertNotNull(Class.forName("org.bytedeco.pytorch.global.torch", false, getClass().getClassLoader()));
    }

    @Test
    void theLicenceAndNoticeTravelWithTheClasses() throws Exception {
        // the build copies them into every module's classes as META-INF/LICENSE and META-INF/NOTICE (and so into its jar)
        for (String name : new String[] {"META-INF/LICENSE", "META-INF/NOTICE"}) {
            boolean ours = false;
            for (var urls = getClass().getClassLoader().getResources(name); urls.hasMoreElements(); ) {
                ours |= urls.nextElement().toString().contains("segsa-core");
            }
            assertTrue(ours, name + " is not among segsa-core's resources");
        }
        try (var in = getClass().getClassLoader().getResourceAsStream("META-INF/NOTICE")) {
            assertNotNull(in);
        }
    }
}
