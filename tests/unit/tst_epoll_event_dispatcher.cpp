// SPDX-License-Identifier: GPL-3.0-or-later
// EpollEventDispatcher as the main thread's dispatcher (installed before the application
// exists, as greygated does) and on a worker QThread: sockets, timers, posted events,
// nested loops, processes, and notifier edge cases (toggling, closed and reused numbers).
#include "EpollTestSupport.h"
#include "util/EpollEventDispatcher.h"
#include "util/EpollEventDispatcherFactory.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QLocalServer>
#include <QLocalSocket>
#include <QPointer>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTemporaryFile>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

using namespace greygate;

namespace {

// An object whose timerEvent() runs a callback, to drive raw timer ids.
class TimerTarget : public QObject
{
public:
    std::function<void(int)> onTimer;
    QList<int> fired;

protected:
    void timerEvent(QTimerEvent *event) override
    {
        fired.append(event->timerId());
        if (onTimer)
            onTimer(event->timerId());
    }
};

// Echoes every byte it reads, on whatever thread it lives.
class Echo : public QObject
{
public:
    explicit Echo(QTcpServer *server)
    {
        connect(server, &QTcpServer::newConnection, this, [server] {
            while (QTcpSocket *s = server->nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [s] { s->write(s->readAll()); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
};

QByteArray pattern(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char('a' + i % 26);
    return bytes;
}

} // namespace

class TestEpollEventDispatcher : public QObject
{
    Q_OBJECT

private slots:
    void theApplicationRunsOnEpoll();
    void tcpRoundTripEchoesEveryByte_data();
    void tcpRoundTripEchoesEveryByte();
    void localSocketRoundTripEchoes();
    void singleShotTimerFiresOnceAndNotEarly_data();
    void singleShotTimerFiresOnceAndNotEarly();
    void repeatingTimerKeepsFiring();
    void zeroTimerFiresOncePerPass();
    void zeroTimerDoesNotStarveSockets();
    void timerKilledByAnEarlierHandlerInTheSamePassDoesNotFire();
    void timerThatKillsItselfFiresOnce();
    void remainingTimeAndRegisteredTimersDescribeATimer();
    void postFromAnotherThreadWakesABlockedLoop();
    void queuedSignalFromAnotherThreadWakesTheLoop();
    void workerThreadRunsOnEpoll();
    void nestedEventLoopRunsAndReturns();
    void deleteLaterDeletes();
    void interruptReturnsFromABlockingPass();
    void aboutToBlockAndAwakeAreEmitted();
    void togglingANotifierWithoutAPassCostsNoSystemCall();
    void disabledNotifierIsNotWokenByPendingInput();
    void writeNotifierFiresOnlyWhileEnabled();
    void excludeSocketNotifiersHoldsSocketEvents();
    void notifierOnAClosedAndReusedNumberSeesTheNewSocket();
    void staleRegistrationOfADuplicatedDescriptorIsDropped();
    void notifierOnARegularFileIsAlwaysReady();
    void processRunsAndReportsItsOutput();
    void manyDescriptorsAreAllServed();
    void factoryParsesTheOption_data();
    void factoryParsesTheOption();
};

void TestEpollEventDispatcher::theApplicationRunsOnEpoll()
{
    QVERIFY(dispatcher());
    QVERIFY(dispatcher()->isValid());
}

void TestEpollEventDispatcher::tcpRoundTripEchoesEveryByte_data()
{
    QTest::addColumn<qsizetype>("size");
    QTest::newRow("one line") << qsizetype(20);
    // Larger than the socket buffers: the write notifier must come and go.
    QTest::newRow("4 MiB") << qsizetype(4 << 20);
}

void TestEpollEventDispatcher::tcpRoundTripEchoesEveryByte()
{
    QFETCH(qsizetype, size);
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Echo echo(&server);
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QVERIFY(client.waitForConnected(5000) || client.state() == QAbstractSocket::ConnectedState);
    const QByteArray sent = pattern(size);
    client.write(sent);
    QByteArray received;
    connect(&client, &QTcpSocket::readyRead, this, [&] { received += client.readAll(); });
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), sent.size(), 20000);
    QCOMPARE(received, sent);
}

void TestEpollEventDispatcher::localSocketRoundTripEchoes()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QLocalServer server;
    QVERIFY(server.listen(dir.filePath(QStringLiteral("echo"))));
    connect(&server, &QLocalServer::newConnection, this, [&server] {
        QLocalSocket *s = server.nextPendingConnection();
        connect(s, &QLocalSocket::readyRead, s, [s] { s->write(s->readAll()); });
    });
    QLocalSocket client;
    client.connectToServer(server.fullServerName());
    QTRY_COMPARE(client.state(), QLocalSocket::ConnectedState);
    QByteArray received;
    connect(&client, &QLocalSocket::readyRead, this, [&] { received += client.readAll(); });
    client.write(QByteArrayLiteral("hello over a local socket"));
    QTRY_COMPARE(received, QByteArrayLiteral("hello over a local socket"));
}

void TestEpollEventDispatcher::singleShotTimerFiresOnceAndNotEarly_data()
{
    QTest::addColumn<Qt::TimerType>("type");
    QTest::addColumn<int>("intervalMs");
    QTest::addColumn<int>("earliestMs");
    QTest::newRow("precise") << Qt::PreciseTimer << 60 << 60;
    QTest::newRow("coarse") << Qt::CoarseTimer << 60 << 57;            // 5 % either way
    QTest::newRow("very coarse") << Qt::VeryCoarseTimer << 600 << 500; // whole seconds, ±0.5
}

void TestEpollEventDispatcher::singleShotTimerFiresOnceAndNotEarly()
{
    QFETCH(Qt::TimerType, type);
    QFETCH(int, intervalMs);
    QFETCH(int, earliestMs);
    QTimer timer;
    timer.setTimerType(type);
    timer.setSingleShot(true);
    timer.setInterval(intervalMs);
    int fired = 0;
    qint64 firedAfter = -1;
    QElapsedTimer clock;
    connect(&timer, &QTimer::timeout, this, [&] {
        ++fired;
        firedAfter = clock.elapsed();
    });
    clock.start();
    timer.start();
    QTRY_COMPARE_WITH_TIMEOUT(fired, 1, 5000);
    QVERIFY2(firedAfter >= earliestMs, qPrintable(QString::number(firedAfter)));
    QTest::qWait(intervalMs + 100);
    QCOMPARE(fired, 1);
}

void TestEpollEventDispatcher::repeatingTimerKeepsFiring()
{
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setInterval(5);
    int fired = 0;
    connect(&timer, &QTimer::timeout, this, [&] { ++fired; });
    timer.start();
    QTRY_VERIFY_WITH_TIMEOUT(fired >= 5, 5000);
    timer.stop();
    const int atStop = fired;
    QTest::qWait(50);
    QCOMPARE(fired, atStop);
}

void TestEpollEventDispatcher::zeroTimerFiresOncePerPass()
{
    QTimer timer;
    timer.setInterval(0);
    int fired = 0;
    connect(&timer, &QTimer::timeout, this, [&] { ++fired; });
    timer.start();
    QCoreApplication::sendPostedEvents(); // anything left from earlier tests
    for (int pass = 1; pass <= 5; ++pass) {
        dispatcher()->processEvents(QEventLoop::AllEvents);
        QCOMPARE(fired, pass);
    }
}

void TestEpollEventDispatcher::zeroTimerDoesNotStarveSockets()
{
    QTimer busy;
    busy.setInterval(0);
    int spins = 0;
    connect(&busy, &QTimer::timeout, this, [&] { ++spins; });
    busy.start();
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Echo echo(&server);
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QByteArray received;
    connect(&client, &QTcpSocket::readyRead, this, [&] { received += client.readAll(); });
    connect(&client, &QTcpSocket::connected, this,
            [&] { client.write(QByteArrayLiteral("through a busy loop")); });
    QTRY_COMPARE(received, QByteArrayLiteral("through a busy loop"));
    QVERIFY(spins > 0);
}

void TestEpollEventDispatcher::timerKilledByAnEarlierHandlerInTheSamePassDoesNotFire()
{
    TimerTarget target;
    const int first = target.startTimer(1, Qt::PreciseTimer);
    const int second = target.startTimer(1, Qt::PreciseTimer);
    target.onTimer = [&](int id) {
        target.killTimer(id == first ? second : first);
        target.killTimer(id);
    };
    QThread::msleep(5); // both due in the next pass
    QTRY_COMPARE(target.fired.size(), 1);
    QTest::qWait(20);
    QCOMPARE(target.fired.size(), 1);
}

void TestEpollEventDispatcher::timerThatKillsItselfFiresOnce()
{
    TimerTarget target;
    target.onTimer = [&](int id) {
        target.killTimer(id);
    };
    const int id = target.startTimer(0);
    QTRY_COMPARE(target.fired.size(), 1);
    QTest::qWait(20);
    QCOMPARE(target.fired, QList<int>{id});
    QCOMPARE(dispatcher()->remainingTime(id), -1);
}

void TestEpollEventDispatcher::remainingTimeAndRegisteredTimersDescribeATimer()
{
    TimerTarget target;
    const int id = target.startTimer(10'000, Qt::PreciseTimer);
    const int left = dispatcher()->remainingTime(id);
    QVERIFY2(left > 9'000 && left <= 10'000, qPrintable(QString::number(left)));
    const QList<QAbstractEventDispatcher::TimerInfo> timers =
        dispatcher()->registeredTimers(&target);
    QCOMPARE(timers.size(), 1);
    QCOMPARE(timers[0].timerId, id);
    QCOMPARE(timers[0].interval, 10'000);
    QCOMPARE(timers[0].timerType, Qt::PreciseTimer);
    QVERIFY(dispatcher()->unregisterTimers(&target));
    QCOMPARE(dispatcher()->remainingTime(id), -1);
    QVERIFY(dispatcher()->registeredTimers(&target).isEmpty());
}

void TestEpollEventDispatcher::postFromAnotherThreadWakesABlockedLoop()
{
    QEventLoop loop;
    QObject receiver;
    std::unique_ptr<QThread> poster(QThread::create([&receiver, &loop] {
        QThread::msleep(50); // the loop is blocked in epoll_wait by now
        QMetaObject::invokeMethod(
            &receiver, [&loop] { loop.exit(7); }, Qt::QueuedConnection);
    }));
    QTimer::singleShot(10'000, &loop, [&loop] { loop.exit(1); }); // the test's bound
    poster->start();
    QCOMPARE(loop.exec(), 7);
    poster->wait();
}

void TestEpollEventDispatcher::queuedSignalFromAnotherThreadWakesTheLoop()
{
    QThread worker;
    QObject sender;
    sender.moveToThread(&worker);
    worker.start();
    QObject receiver;
    int received = 0;
    connect(&sender, &QObject::objectNameChanged, &receiver, [&] { ++received; });
    for (int i = 0; i < 10; ++i)
        QMetaObject::invokeMethod(&sender,
                                  [&sender, i] { sender.setObjectName(QString::number(i)); });
    QTRY_COMPARE(received, 10);
    worker.quit();
    worker.wait();
}

void TestEpollEventDispatcher::workerThreadRunsOnEpoll()
{
    QThread worker;
    worker.setEventDispatcher(new EpollEventDispatcher);
    QObject onWorker; // the context that runs the calls below on the worker
    onWorker.moveToThread(&worker);
    worker.start();
    // A TCP echo server on the worker, a client here: both loops on epoll.
    std::unique_ptr<QTcpServer> server;
    std::unique_ptr<Echo> echo;
    quint16 port = 0;
    bool onEpoll = false;
    // Whatever fails below, the worker's objects go on the worker and the thread stops.
    const auto stop = qScopeGuard([&] {
        QMetaObject::invokeMethod(
            &onWorker,
            [&] {
                echo.reset();
                server.reset();
            },
            Qt::BlockingQueuedConnection);
        worker.quit();
        worker.wait();
    });
    QMetaObject::invokeMethod(
        &onWorker,
        [&] {
            onEpoll =
                qobject_cast<EpollEventDispatcher *>(QThread::currentThread()->eventDispatcher());
            server = std::make_unique<QTcpServer>();
            server->listen(QHostAddress::LocalHost, 0);
            port = server->serverPort();
            echo = std::make_unique<Echo>(server.get());
        },
        Qt::BlockingQueuedConnection);
    QVERIFY(onEpoll);
    QVERIFY(port != 0);
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, port);
    QByteArray received;
    connect(&client, &QTcpSocket::readyRead, this, [&] { received += client.readAll(); });
    client.write(QByteArrayLiteral("to the worker and back"));
    QTRY_COMPARE(received, QByteArrayLiteral("to the worker and back"));
    // A timer on the worker too.
    QAtomicInt ticks;
    QMetaObject::invokeMethod(&onWorker, [&ticks] {
        auto *t = new QTimer;
        QObject::connect(t, &QTimer::timeout, t, [&ticks, t] {
            if (ticks.fetchAndAddRelaxed(1) == 2)
                t->deleteLater();
        });
        t->start(1);
    });
    QTRY_COMPARE(ticks.loadRelaxed(), 3);
    client.disconnectFromHost();
}

void TestEpollEventDispatcher::nestedEventLoopRunsAndReturns()
{
    QStringList order;
    QTimer::singleShot(0, this, [&] {
        order << QStringLiteral("outer");
        QEventLoop inner;
        QTimer::singleShot(20, &inner, [&] {
            order << QStringLiteral("inner timer");
            inner.quit();
        });
        inner.exec();
        order << QStringLiteral("inner returned");
    });
    QTRY_COMPARE(order.size(), 3);
    QCOMPARE(order, (QStringList{QStringLiteral("outer"), QStringLiteral("inner timer"),
                                 QStringLiteral("inner returned")}));
}

void TestEpollEventDispatcher::deleteLaterDeletes()
{
    QPointer<QObject> doomed = new QObject;
    doomed->deleteLater();
    QTRY_VERIFY(doomed.isNull());
}

void TestEpollEventDispatcher::interruptReturnsFromABlockingPass()
{
    QAtomicInt interrupted;
    std::unique_ptr<QThread> interrupter(QThread::create([&interrupted] {
        QThread::msleep(50); // the loop is blocked in epoll_wait by now
        interrupted.storeRelease(1);
        dispatcher()->interrupt();
    }));
    // Nothing else ends these blocking passes but the interrupt, or the bound's timer if the
    // interrupt did not wake the loop.
    QTimer bound;
    bound.setSingleShot(true);
    bound.start(10'000);
    interrupter->start();
    while (!interrupted.loadAcquire() && bound.isActive())
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
    interrupter->wait();
    QVERIFY(bound.isActive());
}

void TestEpollEventDispatcher::aboutToBlockAndAwakeAreEmitted()
{
    QSignalSpy aboutToBlock(dispatcher(), &QAbstractEventDispatcher::aboutToBlock);
    QSignalSpy awake(dispatcher(), &QAbstractEventDispatcher::awake);
    QTimer::singleShot(5, this, [] {});
    dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
    QVERIFY(aboutToBlock.count() >= 1);
    QVERIFY(awake.count() >= 1);
}

void TestEpollEventDispatcher::togglingANotifierWithoutAPassCostsNoSystemCall()
{
    SocketPair pair;
    QSocketNotifier read(pair.fd[0], QSocketNotifier::Read);
    QSocketNotifier write(pair.fd[0], QSocketNotifier::Write);
    write.setEnabled(false);
    int reads = 0;
    connect(&read, &QSocketNotifier::activated, this, [&] {
        char byte;
        if (::read(pair.fd[0], &byte, 1) == 1)
            ++reads;
    });
    dispatcher()->processEvents(QEventLoop::AllEvents); // registered
    const quint64 before = dispatcher()->controlCalls();
    for (int i = 0; i < 1000; ++i) {
        read.setEnabled(false);
        read.setEnabled(true);
        write.setEnabled(true);
        write.setEnabled(false);
    }
    dispatcher()->processEvents(QEventLoop::AllEvents);
    // A thousand toggles, at most two calls: when the read notifier was the descriptor's
    // last, re-enabling it asks the kernel whether the number still names the same socket
    // (an ADD refused with EEXIST, then a MOD).
    QVERIFY(dispatcher()->controlCalls() - before <= 2);
    // The write notifier toggled beside an enabled reader: nothing at all.
    const quint64 beside = dispatcher()->controlCalls();
    for (int i = 0; i < 1000; ++i) {
        write.setEnabled(true);
        write.setEnabled(false);
    }
    dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(dispatcher()->controlCalls(), beside);
    QCOMPARE(reads, 0);
    QVERIFY(pair.send());
    QTRY_COMPARE(reads, 1);
}

void TestEpollEventDispatcher::disabledNotifierIsNotWokenByPendingInput()
{
    SocketPair pair;
    QSocketNotifier read(pair.fd[0], QSocketNotifier::Read);
    int reads = 0;
    connect(&read, &QSocketNotifier::activated, this, [&] { ++reads; });
    dispatcher()->processEvents(QEventLoop::AllEvents);
    read.setEnabled(false);
    QVERIFY(pair.send());
    for (int i = 0; i < 5; ++i)
        dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(reads, 0);
    read.setEnabled(true);
    QTRY_VERIFY(reads >= 1);
}

void TestEpollEventDispatcher::writeNotifierFiresOnlyWhileEnabled()
{
    SocketPair pair;
    QSocketNotifier write(pair.fd[0], QSocketNotifier::Write);
    int writes = 0;
    connect(&write, &QSocketNotifier::activated, this, [&] {
        ++writes;
        write.setEnabled(false);
    });
    QTRY_COMPARE(writes, 1);
    for (int i = 0; i < 5; ++i)
        dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(writes, 1);
    write.setEnabled(true);
    QTRY_COMPARE(writes, 2);
}

void TestEpollEventDispatcher::excludeSocketNotifiersHoldsSocketEvents()
{
    SocketPair pair;
    QSocketNotifier read(pair.fd[0], QSocketNotifier::Read);
    int reads = 0;
    connect(&read, &QSocketNotifier::activated, this, [&] { ++reads; });
    QVERIFY(pair.send());
    dispatcher()->processEvents(QEventLoop::ExcludeSocketNotifiers);
    QCOMPARE(reads, 0);
    QTRY_VERIFY(reads >= 1);
}

void TestEpollEventDispatcher::notifierOnAClosedAndReusedNumberSeesTheNewSocket()
{
    auto first = std::make_unique<SocketPair>();
    const int number = first->fd[0];
    int oldReads = 0;
    {
        QSocketNotifier read(number, QSocketNotifier::Read);
        connect(&read, &QSocketNotifier::activated, this, [&] { ++oldReads; });
        dispatcher()->processEvents(QEventLoop::AllEvents);
    }
    first.reset();
    SocketPair second; // the lowest free numbers: the first pair's
    if (second.fd[0] != number && second.fd[1] != number)
        QSKIP("the descriptor number was not reused");
    const int side = second.fd[0] == number ? 0 : 1;
    QSocketNotifier read(number, QSocketNotifier::Read);
    int reads = 0;
    connect(&read, &QSocketNotifier::activated, this, [&] { ++reads; });
    QVERIFY(second.send(1 - side));
    QTRY_VERIFY(reads >= 1);
    QCOMPARE(oldReads, 0);
}

void TestEpollEventDispatcher::staleRegistrationOfADuplicatedDescriptorIsDropped()
{
    // The first socket's file lives on through a duplicate after its number is closed and
    // reused: its readiness must not reach the new socket's notifier, nor spin the loop.
    SocketPair first;
    const int number = first.fd[0];
    int oldReads = 0;
    auto old = std::make_unique<QSocketNotifier>(number, QSocketNotifier::Read);
    connect(old.get(), &QSocketNotifier::activated, this, [&] { ++oldReads; });
    dispatcher()->processEvents(QEventLoop::AllEvents);
    const int duplicate = ::dup(number);
    QVERIFY(duplicate >= 0);
    old.reset();
    ::close(number);
    first.fd[0] = duplicate;
    SocketPair second; // the lowest free number: the one just closed
    if (second.fd[0] != number)
        QSKIP("the descriptor number was not reused");
    QSocketNotifier read(number, QSocketNotifier::Read);
    int reads = 0;
    connect(&read, &QSocketNotifier::activated, this, [&] {
        ++reads;
        char byte;
        while (::read(number, &byte, 1) == 1) {
        }
    });
    dispatcher()->processEvents(QEventLoop::AllEvents);
    QVERIFY(first.send()); // the old file becomes readable
    for (int i = 0; i < 5; ++i)
        dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(reads, 0);
    QCOMPARE(oldReads, 0);
    QVERIFY(second.send());
    QTRY_COMPARE(reads, 1);
}

void TestEpollEventDispatcher::notifierOnARegularFileIsAlwaysReady()
{
    // epoll refuses regular files (EPERM); poll() calls them ready, and so does this.
    QTemporaryFile file;
    QVERIFY(file.open());
    QSocketNotifier read(file.handle(), QSocketNotifier::Read);
    int reads = 0;
    connect(&read, &QSocketNotifier::activated, this, [&] {
        if (++reads == 3)
            read.setEnabled(false);
    });
    QTRY_COMPARE(reads, 3);
    for (int i = 0; i < 5; ++i)
        dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(reads, 3);
}

void TestEpollEventDispatcher::processRunsAndReportsItsOutput()
{
    QProcess process;
    process.start(QStringLiteral("/bin/sh"),
                  {QStringLiteral("-c"), QStringLiteral("read line; echo \"got $line\"")});
    QVERIFY(process.waitForStarted(10'000));
    QSignalSpy finished(&process, &QProcess::finished);
    process.write("hello\n");
    process.closeWriteChannel();
    QVERIFY(finished.wait(10'000));
    QCOMPARE(process.exitCode(), 0);
    QCOMPARE(process.readAllStandardOutput(), QByteArrayLiteral("got hello\n"));
}

void TestEpollEventDispatcher::manyDescriptorsAreAllServed()
{
    constexpr int kPairs = 300;
    std::vector<std::unique_ptr<SocketPair>> pairs;
    std::vector<std::unique_ptr<QSocketNotifier>> notifiers;
    int served = 0;
    for (int i = 0; i < kPairs; ++i) {
        pairs.push_back(std::make_unique<SocketPair>());
        const int fd = pairs.back()->fd[0];
        QVERIFY(fd >= 0);
        notifiers.push_back(std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read));
        QSocketNotifier *n = notifiers.back().get();
        connect(n, &QSocketNotifier::activated, this, [&served, n, fd] {
            char byte;
            if (::read(fd, &byte, 1) == 1)
                ++served;
            n->setEnabled(false);
        });
    }
    for (const auto &pair : pairs)
        QVERIFY(pair->send());
    QTRY_COMPARE(served, kPairs);
}

void TestEpollEventDispatcher::factoryParsesTheOption_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("kind"); // -1: not a dispatcher
    using Kind = EpollEventDispatcherFactory::Kind;
    QTest::newRow("absent: the daemon's default")
        << QStringList{QStringLiteral("--delay=5")}
        << int(EpollEventDispatcherFactory::kDaemonDefault);
    QTest::newRow("epoll") << QStringList{QStringLiteral("--event-dispatcher=epoll")}
                           << int(Kind::Epoll);
    QTest::newRow("qt, separate value")
        << QStringList{QStringLiteral("--event-dispatcher"), QStringLiteral("qt")} << int(Kind::Qt);
    QTest::newRow("last wins") << QStringList{QStringLiteral("--event-dispatcher=qt"),
                                              QStringLiteral("--event-dispatcher=epoll")}
                               << int(Kind::Epoll);
    QTest::newRow("unknown") << QStringList{QStringLiteral("--event-dispatcher=glib")} << -1;
}

void TestEpollEventDispatcher::factoryParsesTheOption()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, kind);
    std::vector<QByteArray> storage{QByteArrayLiteral("greygated")};
    for (const QString &a : arguments)
        storage.push_back(a.toLocal8Bit());
    std::vector<char *> argv;
    for (QByteArray &s : storage)
        argv.push_back(s.data());
    const auto parsed = EpollEventDispatcherFactory::fromArguments(int(argv.size()), argv.data());
    QCOMPARE(parsed.has_value(), kind >= 0);
    if (parsed)
        QCOMPARE(int(*parsed), kind);
}

int main(int argc, char **argv)
{
    // As greygated does: the dispatcher exists before the application.
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
    QCoreApplication app(argc, argv);
    TestEpollEventDispatcher test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epoll_event_dispatcher.moc"
