// SPDX-License-Identifier: GPL-3.0-or-later
// --store=redis://... parsing, the password file's checks, and the key layout's round trips.

#include "store/redis/RedisKeys.h"
#include "store/redis/RedisOptions.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;

class TestRedisOptions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void urlIsParsed_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<int>("db");
        QTest::newRow("host and port") << "redis://10.0.0.5:6380"
                                       << "10.0.0.5" << 6380 << 0;
        QTest::newRow("database") << "redis://127.0.0.1:6379/3"
                                  << "127.0.0.1" << 6379 << 3;
        QTest::newRow("default port") << "redis://redis.example"
                                      << "redis.example" << 6379 << 0;
        QTest::newRow("ipv6") << "redis://[::1]:7000/1"
                              << "::1" << 7000 << 1;
        QTest::newRow("scheme case") << "REDIS://h:1/"
                                     << "h" << 1 << 0;
    }
    void urlIsParsed()
    {
        QFETCH(QString, url);
        QString error;
        const std::optional<RedisOptions> o = RedisOptions::fromUrl(url, &error);
        QVERIFY2(o, qPrintable(error));
        QTEST(o->host, "host");
        QTEST(int(o->port), "port");
        QTEST(o->db, "db");
    }

    void sentinelUrlNamesTheSentinelsAndTheMaster()
    {
        QString error;
        const std::optional<RedisOptions> o = RedisOptions::fromUrl(
            QStringLiteral("redis-sentinel://10.0.0.1,10.0.0.2:26380,[::1]/gg/2"), &error);
        QVERIFY2(o, qPrintable(error));
        QVERIFY(o->sentinelMode());
        QCOMPARE(o->masterName, QByteArray("gg"));
        QCOMPARE(o->db, 2);
        QCOMPARE(o->sentinels.size(), 3);
        QCOMPARE(o->sentinels[0], (RedisOptions::Endpoint{QStringLiteral("10.0.0.1"), 26379}));
        QCOMPARE(o->sentinels[1], (RedisOptions::Endpoint{QStringLiteral("10.0.0.2"), 26380}));
        QCOMPARE(o->sentinels[2], (RedisOptions::Endpoint{QStringLiteral("::1"), 26379}));
        QVERIFY(o->displayName().startsWith(u"redis-sentinel://10.0.0.1:26379,"));
        const RedisOptions link = o->sentinelOptions(o->sentinels[1]);
        QVERIFY(link.sentinelLink);
        QVERIFY(link.password.isEmpty());
        QCOMPARE(link.port, quint16(26380));
    }

    void badSentinelUrlIsRefusedWithTheReason_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("reason");
        QTest::newRow("no master") << "redis-sentinel://h:1"
                                   << "names the master";
        QTest::newRow("empty master") << "redis-sentinel://h:1//0"
                                      << "names the master";
        QTest::newRow("db") << "redis-sentinel://h:1/gg/99"
                            << "bad database";
        QTest::newRow("port") << "redis-sentinel://h:1,h:0/gg"
                              << "bad port";
        QTest::newRow("password") << "redis-sentinel://:pw@h:1/gg"
                                  << "--redis-password-file";
        QTest::newRow("too many") << "redis-sentinel://a,b,c,d,e,f,g,h,i/gg"
                                  << "at most 8";
    }
    void badSentinelUrlIsRefusedWithTheReason()
    {
        QFETCH(QString, url);
        QFETCH(QString, reason);
        QString error;
        QVERIFY(!RedisOptions::fromUrl(url, &error));
        QVERIFY2(error.contains(reason), qPrintable(error));
    }

    void badUrlIsRefusedWithTheReason_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("reason");
        QTest::newRow("scheme") << "http://h:1"
                                << "redis://HOST:PORT";
        QTest::newRow("password") << "redis://:secret@h:1"
                                  << "--redis-password-file";
        QTest::newRow("port") << "redis://h:99999"
                              << "bad port";
        QTest::newRow("db") << "redis://h:1/16"
                            << "bad database";
        QTest::newRow("no host") << "redis://:6379"
                                 << "no host";
        QTest::newRow("ipv6") << "redis://[::1:6379"
                              << "unterminated";
    }
    void badUrlIsRefusedWithTheReason()
    {
        QFETCH(QString, url);
        QFETCH(QString, reason);
        QString error;
        QVERIFY(!RedisOptions::fromUrl(url, &error));
        QVERIFY2(error.contains(reason), qPrintable(error));
    }

    void passwordFileMustBePrivate()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("pw"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("s3cret\n");
        file.close();
        QVERIFY(file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                    QFileDevice::ReadOther));
        RedisOptions o;
        QString error;
        QVERIFY(!o.readPasswordFile(path, &error));
        QVERIFY2(error.contains(u"chmod 600"), qPrintable(error));
        QVERIFY(file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        QVERIFY2(o.readPasswordFile(path, &error), qPrintable(error));
        QCOMPARE(o.password, QByteArray("s3cret"));
    }

    void tripletKeysShareTheClientsHashTag()
    {
        const TripletKey key{"2001:db8::/64", "", "b@rcpt.example"};
        const QByteArray k = RedisKeys::triplet(key);
        QVERIFY(k.startsWith("gg:{2001:db8::/64}"));
        QVERIFY(RedisKeys::client(key.client).startsWith("gg:{2001:db8::/64}"));
        QCOMPARE(RedisKeys::tripletFromKey(k), std::optional<TripletKey>(key));
        Seconds first = 0;
        QByteArray back;
        QVERIFY(RedisKeys::splitDueMember(RedisKeys::dueMember(1234, k), &first, &back));
        QCOMPARE(first, 1234);
        QCOMPARE(back, k);
        QVERIFY(!RedisKeys::usable(TripletKey{"a{b}", "s", "r"}));
    }
};

QTEST_GUILESS_MAIN(TestRedisOptions)
#include "tst_redis_options.moc"
