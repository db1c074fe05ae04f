// Where received files go and what they are called: the XDG download folder, safe names for
// hostile ones, unique names, and the /send command.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "app/session/chat_command.h"
#include "app/session/download_dir.h"
#include "net/base/utf8.h"

using namespace huddle;
using namespace huddle::session;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("huddle-files-" + std::to_string(::getpid()) + "-" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) { std::ofstream(path / name) << text; }
};

TEST(DownloadDir, FromUserDirsElseDownloadsInHome) {
  TempDir t;
  const std::string home = (t.path / "home").string();
  const std::string config = (t.path / "config").string();
  fs::create_directories(config);
  EXPECT_EQ(xdgDownloadDir(home, config), home + "/Downloads");  // no user-dirs.dirs
  std::ofstream(config + "/user-dirs.dirs") << "# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\n"
                                               "XDG_DOWNLOAD_DIR=\"$HOME/Telechargements\"\n";
  EXPECT_EQ(xdgDownloadDir(home, config), home + "/Telechargements");
  std::ofstream(config + "/user-dirs.dirs") << "XDG_DOWNLOAD_DIR=\"/srv/dl/\"\n";
  EXPECT_EQ(xdgDownloadDir(home, config), "/srv/dl");
  // Relative, or $HOME itself: not trusted, the fallback.
  std::ofstream(config + "/user-dirs.dirs") << "XDG_DOWNLOAD_DIR=\"dl\"\n";
  EXPECT_EQ(xdgDownloadDir(home, config), home + "/Downloads");
  std::ofstream(config + "/user-dirs.dirs") << "XDG_DOWNLOAD_DIR=\"$HOME\"\n";
  EXPECT_EQ(xdgDownloadDir(home, config), home + "/Downloads");
  // Created if missing.
  std::string error;
  EXPECT_TRUE(ensureDir(home + "/Downloads", error)) << error;
  EXPECT_TRUE(fs::is_directory(home + "/Downloads"));
  t.write("plain", "x");
  EXPECT_FALSE(ensureDir((t.path / "plain").string(), error));
  EXPECT_FALSE(error.empty());
}

TEST(DownloadDir, SafeNamesForHostileOnes) {
  EXPECT_EQ(safeFileName("report.pdf"), "report.pdf");
  EXPECT_EQ(safeFileName("../../etc/passwd"), "_.._etc_passwd");
  EXPECT_EQ(safeFileName(".."), "file");
  EXPECT_EQ(safeFileName("."), "file");
  EXPECT_EQ(safeFileName(""), "file");
  EXPECT_EQ(safeFileName(".bashrc"), "bashrc");
  EXPECT_EQ(safeFileName("a\nb\x1b[31m"), "a_b_[31m");
  EXPECT_EQ(safeFileName("C:\\Windows\\x"), "C__Windows_x");
  EXPECT_EQ(safeFileName("CON"), "_CON");
  EXPECT_EQ(safeFileName("nul.txt"), "_nul.txt");
  EXPECT_EQ(safeFileName("name. . "), "name");
  EXPECT_EQ(safeFileName("\xff\xfe.txt"), "__.txt");
  const std::string longName = std::string(300, 'a') + ".tar.gz";
  const std::string cut = safeFileName(longName);
  EXPECT_LE(cut.size(), 200u);
  EXPECT_EQ(cut.substr(cut.size() - 3), ".gz");
  // Cut at a character boundary: a 2-byte character is never split.
  std::string accents = std::string(151, 'a');
  for (int i = 0; i < 50; ++i) accents += "\xc3\xa9";
  const std::string cutUtf8 = safeFileName(accents);
  EXPECT_LE(cutUtf8.size(), 200u);
  EXPECT_TRUE(base::isValidUtf8(cutUtf8));
  EXPECT_EQ(partFileName("a.txt"), ".a.txt.part");
  for (const char* n : {"../x", "a/b", "..", "", "\x01"}) {
    const std::string s = safeFileName(n);
    EXPECT_EQ(s.find('/'), std::string::npos);
    EXPECT_NE(s, "..");
    EXPECT_NE(s, ".");
  }
}

TEST(DownloadDir, UniqueNamesNeverTakeAnExistingOne) {
  TempDir t;
  const std::string dir = t.path.string();
  EXPECT_EQ(uniqueFileName(dir, "a.txt"), "a.txt");
  t.write("a.txt", "1");
  EXPECT_EQ(uniqueFileName(dir, "a.txt"), "a (2).txt");
  t.write("a (2).txt", "2");
  EXPECT_EQ(uniqueFileName(dir, "a.txt"), "a (3).txt");
  t.write("noext", "1");
  EXPECT_EQ(uniqueFileName(dir, "noext"), "noext (2)");
  // A dangling link counts as taken too.
  fs::create_symlink(t.path / "nowhere", t.path / "link.txt");
  EXPECT_EQ(uniqueFileName(dir, "link.txt"), "link (2).txt");
}

TEST(DownloadDir, TheSendCommand) {
  auto c = parseChatLine("/send /tmp/a.txt");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Send);
  EXPECT_EQ(c.text, "/tmp/a.txt");
  EXPECT_EQ(c.target, "");
  c = parseChatLine("/send /tmp/a.txt bob");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Send);
  EXPECT_EQ(c.target, "bob");
  c = parseChatLine("/send \"/tmp/my file.txt\" bob");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Send);
  EXPECT_EQ(c.text, "/tmp/my file.txt");
  EXPECT_EQ(c.target, "bob");
  EXPECT_EQ(parseChatLine("/send").kind, ChatCommand::Kind::Error);
  EXPECT_EQ(parseChatLine("/send a b c").kind, ChatCommand::Kind::Error);
  EXPECT_EQ(parseChatLine("/send \"unclosed").kind, ChatCommand::Kind::Error);
}

}  // namespace
