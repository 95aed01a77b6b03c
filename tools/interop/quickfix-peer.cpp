// quickfix-peer: a small FIX 4.4 counterparty built on QuickFIX C++ (1.15), used to check
// FIXBridge against an independent engine.
//
//   quickfix-peer acceptor SETTINGS [--gap-after N] [--drop-after N] [--threaded] [--quiet] [--verbose]
//     Answers every NewOrderSingle with an ExecutionReport New and then a Fill.
//     --gap-after N   after answering N orders, skip 5 outgoing MsgSeqNums once
//     --drop-after N  after answering N orders, drop the connection once
//     Runs until SIGINT/SIGTERM.
//
//   quickfix-peer initiator SETTINGS --orders N [--window W] [--gap-after K] [--timeout S] [--threaded] [--quiet] [--verbose]
//     Logs on, sends N NewOrderSingles (ClOrdID QF-1..QF-N), at most W unfilled at a time
//     (default: all at once), waits until each is filled, prints "DONE orders=N fills=N" and
//     the order->fill round trip percentiles, logs out and exits 0 (1 on timeout, 2 on bad
//     usage).
//
// --quiet leaves out the per-message event lines (ORDER, DUP, EXEC), which a benchmark does
// not want to pay for.
//
// Events are printed to stdout, one per line: LISTENING, LOGON, LOGOUT, ORDER, DUP, EXEC, GAP,
// DROP, REJECT-SENT, REJECT-RECEIVED, DONE, TIMEOUT.
// Message logging goes to FileLogPath when the settings name one, to the screen with
// --verbose, and nowhere otherwise. The message store is a FileStore (FileStorePath), so
// sequence numbers survive reconnects.
//
// By default the engine is driven with poll() from the main thread only, so every callback runs
// on that thread and nothing here needs locking. QuickFIX 1.15's poll() does not wait (see
// kPollTimeoutSeconds), so that loop spins on a core. --threaded runs the engine the way its
// applications usually do: start() runs it on QuickFIX's own thread, which blocks in select()
// until there is input; the initiator then sends its orders from the callbacks (on logon, and
// on each fill), and the main thread only waits for the end.

#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Log.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/Values.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void onSignal(int) { g_stop = 1; }

void event(const std::string& line) {
  std::cout << line << std::endl;  // endl flushes: lines are read by a script while we run
}

// Per-message event lines, left out with --quiet.
bool g_quiet = false;
void detail(const std::string& line) {
  if (!g_quiet) event(line);
}

std::int64_t nowMicros() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

void usage() {
  std::cerr << "usage: quickfix-peer acceptor SETTINGS [--gap-after N] [--drop-after N] [--quiet] [--verbose]\n"
               "       quickfix-peer initiator SETTINGS --orders N [--window W] [--gap-after K] [--timeout S] [--quiet] [--verbose]\n"
               "       (either mode: --threaded runs QuickFIX on its own blocking thread instead of polling)\n";
}

struct Options {
  std::string mode;
  std::string settingsPath;
  int orders = 0;
  int gapAfter = 0;
  int dropAfter = 0;
  int timeoutSeconds = 30;
  int window = 0;
  bool verbose = false;
  bool threaded = false;
};

bool parseInt(const char* text, int& out) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 0 || value > 1000000) return false;
  out = static_cast<int>(value);
  return true;
}

bool parseOptions(int argc, char** argv, Options& opt) {
  if (argc < 3) return false;
  opt.mode = argv[1];
  opt.settingsPath = argv[2];
  if (opt.mode != "acceptor" && opt.mode != "initiator") return false;
  for (int i = 3; i < argc; ++i) {
    std::string arg = argv[i];
    int* target = nullptr;
    if (arg == "--verbose") { opt.verbose = true; continue; }
    if (arg == "--quiet") { g_quiet = true; continue; }
    if (arg == "--threaded") { opt.threaded = true; continue; }
    if (arg == "--gap-after") target = &opt.gapAfter;
    else if (arg == "--drop-after" && opt.mode == "acceptor") target = &opt.dropAfter;
    else if (arg == "--orders" && opt.mode == "initiator") target = &opt.orders;
    else if (arg == "--timeout" && opt.mode == "initiator") target = &opt.timeoutSeconds;
    else if (arg == "--window" && opt.mode == "initiator") target = &opt.window;
    if (!target || i + 1 >= argc || !parseInt(argv[i + 1], *target)) {
      std::cerr << "quickfix-peer: bad or incomplete option " << arg << "\n";
      return false;
    }
    ++i;
  }
  if (opt.mode == "initiator" && opt.orders <= 0) {
    std::cerr << "quickfix-peer: initiator needs --orders N (N > 0)\n";
    return false;
  }
  return true;
}

std::string fieldOr(const FIX::FieldMap& map, int tag, const std::string& fallback) {
  return map.isSetField(tag) ? map.getField(tag) : fallback;
}

// Make the counterparty see a gap: the next message we send skips `count` MsgSeqNums.
void skipSequenceNumbers(const FIX::SessionID& id, int count) {
  FIX::Session* session = FIX::Session::lookupSession(id);
  if (!session) return;
  int next = session->getExpectedSenderNum() + count;
  session->setNextSenderMsgSeqNum(next);
  event("GAP next-sender-seq=" + std::to_string(next));
}

// Common callbacks: event lines for logon and logout; subclasses handle application messages.
class PeerApplication : public FIX::Application {
public:
  bool loggedOn = false;

  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID& id) override {
    loggedOn = true;
    event("LOGON " + id.toString());
  }
  void onLogout(const FIX::SessionID& id) override {
    loggedOn = false;
    event("LOGOUT " + id.toString());
  }
  // Session-level rejects in either direction are printed: they explain most interop failures.
  void toAdmin(FIX::Message& message, const FIX::SessionID&) override {
    if (isReject(message)) event("REJECT-SENT " + describeReject(message));
  }
  void toApp(FIX::Message& message, const FIX::SessionID&) throw(FIX::DoNotSend) override {
    if (isReject(message)) event("REJECT-SENT " + describeReject(message));
  }
  void fromAdmin(const FIX::Message& message, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override {
    if (isReject(message)) event("REJECT-RECEIVED " + describeReject(message));
  }

protected:
  static bool isReject(const FIX::Message& message) {
    const std::string type = fieldOr(message.getHeader(), FIX::FIELD::MsgType, "");
    return type == FIX::MsgType_Reject || type == FIX::MsgType_BusinessMessageReject;
  }
  static std::string describeReject(const FIX::Message& message) {
    return "type=" + fieldOr(message.getHeader(), FIX::FIELD::MsgType, "?") +
           " refSeqNum=" + fieldOr(message, FIX::FIELD::RefSeqNum, "?") +
           " refTag=" + fieldOr(message, FIX::FIELD::RefTagID, "-") +
           " text=" + fieldOr(message, FIX::FIELD::Text, "-");
  }
};

// Acceptor side: a venue that fills every order at once.
class VenueApplication : public PeerApplication {
public:
  VenueApplication(int gapAfter, int dropAfter) : gapAfter_(gapAfter), dropAfter_(dropAfter) {
    std::ostringstream prefix;
    prefix << std::time(nullptr) << "-" << ::getpid() << "-";
    idPrefix_ = prefix.str();
  }

  void fromApp(const FIX::Message& message, const FIX::SessionID& id)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
            FIX::UnsupportedMessageType) override {
    const std::string msgType = message.getHeader().getField(FIX::FIELD::MsgType);
    if (isReject(message)) {
      event("REJECT-RECEIVED " + describeReject(message));
      return;
    }
    if (msgType != FIX::MsgType_NewOrderSingle) throw FIX::UnsupportedMessageType();

    const std::string clOrdID = message.getField(FIX::FIELD::ClOrdID);
    if (!answered_.insert(clOrdID).second) {
      detail("DUP " + clOrdID);  // same ClOrdID again: already answered, ignore
      return;
    }
    detail("ORDER " + clOrdID);

    FIX::OrderQty qty;
    message.getField(qty);
    double price = 100.0;
    if (message.isSetField(FIX::FIELD::Price)) {
      FIX::Price px;
      message.getField(px);
      price = px.getValue();
    }

    FIX::Message report = executionReport(message, FIX::ExecType_NEW, FIX::OrdStatus_NEW);
    report.setField(FIX::LeavesQty(qty.getValue()));
    report.setField(FIX::CumQty(0));
    report.setField(FIX::AvgPx(0));
    send(report, id, clOrdID, "0");

    FIX::Message fill = executionReport(message, FIX::ExecType_TRADE, FIX::OrdStatus_FILLED);
    fill.setField(FIX::LastQty(qty.getValue()));
    fill.setField(FIX::LastPx(price));
    fill.setField(FIX::LeavesQty(0));
    fill.setField(FIX::CumQty(qty.getValue()));
    fill.setField(FIX::AvgPx(price));
    send(fill, id, clOrdID, "F");

    ++ordersAnswered_;
    if (gapAfter_ > 0 && ordersAnswered_ == gapAfter_) skipSequenceNumbers(id, 5);
    if (dropAfter_ > 0 && ordersAnswered_ == dropAfter_ && !dropped_) {
      // Drop at once, as QuickFIX itself does on a received Logout: messages still buffered
      // behind this order are discarded unprocessed, so the counterparty must resend them
      // after it reconnects.
      dropped_ = true;
      if (FIX::Session* session = FIX::Session::lookupSession(id)) {
        event("DROP " + id.toString());
        session->disconnect();
      }
    }
  }

private:
  FIX::Message executionReport(const FIX::Message& order, char execType, char ordStatus) {
    FIX::Message report;
    report.getHeader().setField(FIX::MsgType(FIX::MsgType_ExecutionReport));
    report.setField(FIX::OrderID("QFO-" + idPrefix_ + std::to_string(ordersAnswered_ + 1)));
    report.setField(FIX::ExecID("QFE-" + idPrefix_ + std::to_string(++execCounter_)));
    report.setField(FIX::ClOrdID(order.getField(FIX::FIELD::ClOrdID)));
    report.setField(FIX::ExecType(execType));
    report.setField(FIX::OrdStatus(ordStatus));
    report.setField(FIX::Symbol(fieldOr(order, FIX::FIELD::Symbol, "UNKNOWN")));
    report.setField(FIX::FIELD::Side, order.getField(FIX::FIELD::Side));
    report.setField(FIX::FIELD::OrderQty, order.getField(FIX::FIELD::OrderQty));
    report.setField(FIX::TransactTime());
    return report;
  }

  static void send(FIX::Message& report, const FIX::SessionID& id, const std::string& clOrdID,
                   const std::string& execType) {
    FIX::Session::sendToTarget(report, id);
    detail("EXEC " + clOrdID + " " + execType);
  }

  std::set<std::string> answered_;
  std::string idPrefix_;
  int gapAfter_;
  int dropAfter_;
  int ordersAnswered_ = 0;
  int execCounter_ = 0;
  bool dropped_ = false;
};

FIX::Message newOrder(int index);

// Initiator side: sends the orders, counts fills of the orders it sent and times each order's
// round trip. Polled, the main thread calls sendMore() between polls; with --threaded the
// callbacks call it (on logon and on each fill) on QuickFIX's thread, and the main thread only
// reads the atomic fill count and, once every order is filled, the round trips.
class TraderApplication : public PeerApplication {
public:
  std::set<std::string> filled;
  std::map<std::string, std::int64_t> sentAt;  // ClOrdID -> send time (us)
  std::vector<std::int64_t> roundTrips;        // us
  FIX::SessionID sessionID;
  int orders = 0;
  int window = 0;      // most unfilled orders at a time; 0: all at once
  int gapAfter = 0;
  bool sendsFromCallbacks = false;
  std::atomic<int> sent{0};
  std::atomic<int> filledCount{0};
  std::mutex doneMutex;
  std::condition_variable done;

  void onLogon(const FIX::SessionID& id) override {
    PeerApplication::onLogon(id);
    if (sendsFromCallbacks) sendMore();
  }

  // Sends orders while fewer than `window` are unfilled. Orders are sent once; after a
  // reconnect QuickFIX resends what the other side missed.
  void sendMore() {
    int n = sent.load();
    while (n < orders && (window == 0 || n - static_cast<int>(filled.size()) < window)) {
      FIX::Message order = newOrder(n + 1);
      sentAt["QF-" + std::to_string(n + 1)] = nowMicros();
      if (!FIX::Session::sendToTarget(order, sessionID)) break;
      sent.store(++n);
      if (gapAfter > 0 && n == gapAfter) skipSequenceNumbers(sessionID, 5);
    }
  }

  void fromApp(const FIX::Message& message, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
            FIX::UnsupportedMessageType) override {
    const std::string msgType = message.getHeader().getField(FIX::FIELD::MsgType);
    if (isReject(message)) {
      event("REJECT-RECEIVED " + describeReject(message));
      return;
    }
    if (msgType != FIX::MsgType_ExecutionReport) throw FIX::UnsupportedMessageType();
    const std::string clOrdID = fieldOr(message, FIX::FIELD::ClOrdID, "?");
    const std::string execType = fieldOr(message, FIX::FIELD::ExecType, "?");
    detail("EXEC " + clOrdID + " " + execType);
    // An order counts as filled on a Fill report that leaves nothing open (39=2 or 151=0),
    // so a venue that splits an order into partial fills is handled too.
    if (execType == std::string(1, FIX::ExecType_TRADE)) {
      const std::string status = fieldOr(message, FIX::FIELD::OrdStatus, "");
      const std::string leaves = fieldOr(message, FIX::FIELD::LeavesQty, "");
      if (status == std::string(1, FIX::OrdStatus_FILLED) || (!leaves.empty() && std::atof(leaves.c_str()) == 0.0)) {
        if (filled.insert(clOrdID).second) {
          auto sentTime = sentAt.find(clOrdID);
          if (sentTime != sentAt.end()) roundTrips.push_back(nowMicros() - sentTime->second);
          filledCount.store(static_cast<int>(filled.size()));
          if (sendsFromCallbacks) {
            sendMore();
            if (static_cast<int>(filled.size()) >= orders) {
              std::lock_guard<std::mutex> guard(doneMutex);
              done.notify_all();
            }
          }
        }
      }
    }
  }
};

FIX::Message newOrder(int index) {
  FIX::Message order;
  order.getHeader().setField(FIX::MsgType(FIX::MsgType_NewOrderSingle));
  order.setField(FIX::ClOrdID("QF-" + std::to_string(index)));
  order.setField(FIX::Symbol("MSFT"));
  order.setField(FIX::Side(FIX::Side_BUY));
  order.setField(FIX::OrderQty(100));
  order.setField(FIX::OrdType(FIX::OrdType_LIMIT));
  order.setField(FIX::Price(100.25));
  order.setField(FIX::HandlInst(FIX::HandlInst_AUTOMATED_EXECUTION_ORDER_PRIVATE_NO_BROKER_INTERVENTION));
  order.setField(FIX::TransactTime());
  return order;
}

// Build the optional log factory: FileLogPath from the settings, the screen with --verbose.
std::unique_ptr<FIX::LogFactory> makeLogFactory(const FIX::SessionSettings& settings, bool verbose) {
  if (verbose) return std::unique_ptr<FIX::LogFactory>(new FIX::ScreenLogFactory(true, true, true));
  if (settings.get().has("FileLogPath")) return std::unique_ptr<FIX::LogFactory>(new FIX::FileLogFactory(settings));
  return nullptr;
}

// QuickFIX 1.15's SocketInitiator/SocketAcceptor poll(timeout) selects with a zero timeout
// whatever timeout is passed, so these loops busy-poll: the peer reacts at once but keeps a
// core busy, and on a host with other work it is time-sliced like any spinning process.
const double kPollTimeoutSeconds = 0.01;

// Log out every logged-on session and wait until they are off (bounded), then stop. Polled, the
// wait polls the engine; threaded, the engine's thread does the work and this one sleeps.
template <typename Engine>
void logoutAndStop(Engine& engine, int seconds, bool threaded) {
  for (const FIX::SessionID& id : engine.getSessions()) {
    FIX::Session* session = FIX::Session::lookupSession(id);
    if (session && session->isLoggedOn()) session->logout("done");
  }
  std::time_t deadline = std::time(nullptr) + seconds;
  while (engine.isLoggedOn() && std::time(nullptr) < deadline) {
    if (threaded) {
      usleep(10000);
    } else {
      engine.poll(kPollTimeoutSeconds);
    }
  }
  engine.stop(true);
}

int runAcceptor(const Options& opt, const FIX::SessionSettings& settings) {
  VenueApplication app(opt.gapAfter, opt.dropAfter);
  FIX::FileStoreFactory store(settings);
  std::unique_ptr<FIX::LogFactory> logs = makeLogFactory(settings, opt.verbose);
  std::unique_ptr<FIX::SocketAcceptor> acceptor(
      logs ? new FIX::SocketAcceptor(app, store, settings, *logs) : new FIX::SocketAcceptor(app, store, settings));
  if (opt.threaded) {
    acceptor->start();  // opens the listening sockets (throws if it cannot), then runs on its thread
    event("LISTENING");
    while (!g_stop) usleep(50000);
  } else {
    acceptor->poll();  // the first poll opens the listening sockets (throws if it cannot)
    event("LISTENING");
    while (!g_stop) {
      acceptor->poll(kPollTimeoutSeconds);
    }
  }
  logoutAndStop(*acceptor, 3, opt.threaded);
  return 0;
}

int runInitiator(const Options& opt, const FIX::SessionSettings& settings) {
  TraderApplication app;
  FIX::FileStoreFactory store(settings);
  std::unique_ptr<FIX::LogFactory> logs = makeLogFactory(settings, opt.verbose);
  std::unique_ptr<FIX::SocketInitiator> initiator(
      logs ? new FIX::SocketInitiator(app, store, settings, *logs) : new FIX::SocketInitiator(app, store, settings));
  if (initiator->getSessions().size() != 1) {
    std::cerr << "quickfix-peer: initiator settings must hold exactly one session\n";
    return 2;
  }
  app.sessionID = *initiator->getSessions().begin();
  app.orders = opt.orders;
  app.window = opt.window;
  app.gapAfter = opt.gapAfter;
  app.sendsFromCallbacks = opt.threaded;
  const std::time_t deadline = std::time(nullptr) + opt.timeoutSeconds;
  bool finished = false;
  if (opt.threaded) {
    initiator->start();
    std::unique_lock<std::mutex> lock(app.doneMutex);
    while (!g_stop && app.filledCount.load() < opt.orders && std::time(nullptr) < deadline) {
      app.done.wait_for(lock, std::chrono::milliseconds(100));
    }
    finished = app.filledCount.load() >= opt.orders;
  } else {
    while (!g_stop) {
      initiator->poll(kPollTimeoutSeconds);
      if (app.loggedOn) app.sendMore();
      if (app.filledCount.load() >= opt.orders) {
        finished = true;
        break;
      }
      if (std::time(nullptr) >= deadline) break;
    }
  }
  if (finished) {
    event("DONE orders=" + std::to_string(opt.orders) + " fills=" + std::to_string(app.filledCount.load()));
    std::vector<std::int64_t> sorted = app.roundTrips;
    std::sort(sorted.begin(), sorted.end());
    auto percentile = [&](double p) -> std::int64_t {
      if (sorted.empty()) return 0;
      size_t i = std::min(sorted.size() - 1, static_cast<size_t>(static_cast<double>(sorted.size()) * p));
      return sorted[i];
    };
    event("round trip order->fill: p50 " + std::to_string(percentile(0.5)) + " us, p99 " +
          std::to_string(percentile(0.99)) + " us");
    logoutAndStop(*initiator, 5, opt.threaded);
    return 0;
  }
  const char* reason = g_stop ? "INTERRUPTED" : "TIMEOUT";
  event(std::string(reason) + " orders=" + std::to_string(opt.orders) + " sent=" + std::to_string(app.sent.load()) +
        " fills=" + std::to_string(app.filledCount.load()));
  std::cerr << "quickfix-peer: " << (g_stop ? "interrupted" : "timed out") << " after sending " << app.sent.load()
            << " orders with " << app.filledCount.load() << " filled\n";
  initiator->stop(true);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parseOptions(argc, argv, opt)) {
    usage();
    return 2;
  }
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    FIX::SessionSettings settings(opt.settingsPath);
    return opt.mode == "acceptor" ? runAcceptor(opt, settings) : runInitiator(opt, settings);
  } catch (const std::exception& e) {
    std::cerr << "quickfix-peer: " << e.what() << "\n";
    return 2;
  }
}
