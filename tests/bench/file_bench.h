// huddle-bench's file figures (files in the chat, issue 14): one file from a participant to
// three receivers through the host, all separate huddle processes on loopback, with and
// without a live screen stream; and the stream's viewer frame rate with and without the
// transfer under way.
#pragma once
#include <cstdio>
#include <string>

namespace huddle::bench {

struct FileRun {
  double seconds = 0;           // from /send to the last receiver's checked file
  double mibPerSec = 0;         // file bytes delivered (all receivers) per second
  double viewerFps = -1;        // with a stream: the viewer's updates a second over the transfer
  std::string error;
};

struct FileBenchResult {
  int receivers = 3;
  std::size_t fileMiB = 0;
  FileRun alone;            // no screen shared
  FileRun withStream;       // the host shares the test scene, one viewer watches
  double viewerFpsWithout = -1;  // that viewer with no transfer
  std::string error;
};

FileBenchResult measureFiles(const std::string& binary, const std::string& tmpDir, std::size_t fileMiB);
void printFiles(const FileBenchResult& r);
// The "files" member of the JSON report (no trailing comma).
void writeFilesJson(std::FILE* f, const FileBenchResult& r);

}  // namespace huddle::bench
