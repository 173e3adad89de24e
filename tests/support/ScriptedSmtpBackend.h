// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QSemaphore>
#include <QThread>
#include <atomic>

class QTcpServer;
class QTcpSocket;

namespace greygate::test {

// A small SMTP server on loopback, in the test process on its own thread, that plays the
// backend MTA behind the SMTP proxy: it records every message it answered 250 to the final
// dot (so a test can check that each message a client got 250 for reached it), and it can be
// scripted to fail at one stage of each session: answer a given reply (4xx, 5xx, 421 and
// close), drop the connection without a word, or stall (read and never answer). It offers
// PIPELINING, SIZE, 8BITMIME and ENHANCEDSTATUSCODES, no XCLIENT, and answers pipelined
// commands in order. Being in the test process, it outlives every greygated a test kills.
class ScriptedSmtpBackend : public QThread
{
public:
    enum class Stage
    {
        Greeting,
        Ehlo,
        Mail,
        Rcpt,
        Data,
        Dot
    };
    enum class Fault
    {
        None,
        Reply,
        Disconnect,
        Stall
    };

    struct Message
    {
        QByteArray sender;
        QList<QByteArray> recipients;
        QByteArray content; // un-stuffed, CRLF line ends
    };

    ScriptedSmtpBackend();
    ~ScriptedSmtpBackend() override;

    // Listens on a free loopback port; false (with *error) when it cannot.
    bool startListening(QString *error);
    // Stops the thread, closing every connection.
    void stopListening();
    quint16 port() const { return m_port; }

    // What every session does from now on at `stage` (one fault at a time; Fault::None
    // clears it); the greeting's fault applies to the connections opened from now on. reply: the
    // full reply line without CRLF, e.g. "451 4.3.0 Try later".
    void setFault(Stage stage, Fault fault, const QByteArray &reply = {});

    // Closes every session now (as a restarted backend would): the proxy's next transaction
    // needs a new connection, which meets the script from its greeting on.
    void dropSessions();

    QList<Message> messages() const;
    qsizetype messageCount() const;
    // Sessions currently open, and opened in all.
    int openSessions() const { return m_open.load(); }
    int sessionsSeen() const { return m_seen.load(); }

protected:
    void run() override;

private:
    struct Script
    {
        Stage stage = Stage::Greeting;
        Fault fault = Fault::None;
        QByteArray reply;
    };
    Script script() const;
    void serve(QTcpSocket *socket);

    mutable QMutex m_lock;
    Script m_script;
    QList<Message> m_messages;
    std::atomic<quint16> m_port = 0;
    std::atomic<QTcpServer *> m_server = nullptr; // lives in the thread, while it runs
    std::atomic<int> m_open = 0;
    std::atomic<int> m_seen = 0;
    QString m_error;
    QSemaphore m_ready;
};

} // namespace greygate::test
