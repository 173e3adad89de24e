// SPDX-License-Identifier: GPL-3.0-or-later
// The console's settings registry: defaults, changed() only on a real change, a debounced
// and atomic save, a reload that gives back what was saved, a renamed key migrated, a
// damaged file kept aside; the token vault's file mode; the proxy book across a restart.

#include "client/ProxyRegistry.h"
#include "settings/ProxyBook.h"
#include "settings/Settings.h"
#include "settings/TokenVault.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;

class SettingsRegistryTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaultsComeFromTheRegistry_data();
    void defaultsComeFromTheRegistry();
    void changedIsEmittedOnlyOnARealChange();
    void manyChangesMakeOneDebouncedSave();
    void savedValuesComeBackAfterARestart();
    void saveIsAtomicAndLeavesNoTemporaryFile();
    void renamedKeyIsMigrated();
    void damagedFileFallsBackToDefaultsAndIsKeptAside();
    void tokenVaultFileIsReadableByTheOwnerOnly();
    void tokenVaultRefusesAFileOthersMayRead();
    void proxyBookRestoresProxiesWithTheirTokens();
};

void SettingsRegistryTest::defaultsComeFromTheRegistry_data()
{
    QTest::addColumn<Settings::Key>("key");
    QTest::addColumn<QVariant>("expected");
    QTest::newRow("last page") << Settings::Key::LastPage << QVariant(QStringLiteral("dashboard"));
    QTest::newRow("local engine") << Settings::Key::LocalEngineEnabled << QVariant(true);
    QTest::newRow("queue page size") << Settings::Key::QueuePageSize << QVariant(200);
    QTest::newRow("scope") << Settings::Key::Scope << QVariant(QString());
}

void SettingsRegistryTest::defaultsComeFromTheRegistry()
{
    QFETCH(Settings::Key, key);
    QFETCH(QVariant, expected);
    QTemporaryDir dir;
    Settings settings(dir.filePath(QStringLiteral("console.json")));
    QVERIFY(settings.load());
    QCOMPARE(settings.value(key), expected);
    QCOMPARE(Settings::defaultValue(key), expected);
}

void SettingsRegistryTest::changedIsEmittedOnlyOnARealChange()
{
    QTemporaryDir dir;
    Settings settings(dir.filePath(QStringLiteral("console.json")));
    QSignalSpy changed(&settings, &Settings::changed);
    QVERIFY(!settings.setValue(Settings::Key::LastPage, QStringLiteral("dashboard"))); // default
    QCOMPARE(changed.count(), 0);
    QVERIFY(settings.setValue(Settings::Key::LastPage, QStringLiteral("queue")));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().first().value<Settings::Key>(), Settings::Key::LastPage);
    QVERIFY(!settings.setValue(Settings::Key::LastPage, QStringLiteral("queue")));
    // The same value in another type is no change either.
    QVERIFY(!settings.setValue(Settings::Key::QueuePageSize, QStringLiteral("200")));
    QVERIFY(!settings.setMapValue(Settings::Key::ColumnStates, QStringLiteral("live"), {}));
    QVERIFY(settings.setMapValue(Settings::Key::ColumnStates, QStringLiteral("live"),
                                 QByteArray("\x01\x02", 2)));
    QVERIFY(!settings.setMapValue(Settings::Key::ColumnStates, QStringLiteral("live"),
                                  QByteArray("\x01\x02", 2)));
    QCOMPARE(changed.count(), 2);
}

void SettingsRegistryTest::manyChangesMakeOneDebouncedSave()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("console.json"));
    Settings settings(path, 50);
    for (int i = 0; i < 20; ++i)
        settings.setValue(Settings::Key::QueuePageSize, 300 + i);
    QVERIFY(settings.hasPendingSave());
    QVERIFY(!QFile::exists(path)); // nothing written while changes keep coming
    QTRY_VERIFY(!settings.hasPendingSave());
    QCOMPARE(settings.saveCount(), 1);
    QVERIFY(QFile::exists(path));
}

void SettingsRegistryTest::savedValuesComeBackAfterARestart()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("console.json"));
    const QByteArray geometry("\x00\x01\xff binary", 10);
    {
        Settings settings(path);
        settings.setValue(Settings::Key::WindowGeometry, geometry);
        settings.setValue(Settings::Key::LastPage, QStringLiteral("policies"));
        settings.setValue(Settings::Key::LocalEngineEnabled, false);
        settings.setMapValue(Settings::Key::ColumnStates, QStringLiteral("queue"), geometry);
        settings.setValue(
            Settings::Key::Proxies,
            QVariantList{QVariantMap{{QStringLiteral("id"), QStringLiteral("a")},
                                     {QStringLiteral("url"), QStringLiteral("ws://127.0.0.1:1")}}});
    } // the destructor saves what is pending
    Settings again(path);
    QVERIFY(again.load());
    QCOMPARE(again.value(Settings::Key::WindowGeometry).toByteArray(), geometry);
    QCOMPARE(again.value(Settings::Key::LastPage).toString(), QStringLiteral("policies"));
    QCOMPARE(again.value(Settings::Key::LocalEngineEnabled).toBool(), false);
    QCOMPARE(again.mapValue(Settings::Key::ColumnStates, QStringLiteral("queue")).toByteArray(),
             geometry);
    QCOMPARE(again.value(Settings::Key::Proxies).toList().size(), 1);
}

void SettingsRegistryTest::saveIsAtomicAndLeavesNoTemporaryFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("console.json"));
    Settings settings(path);
    settings.setValue(Settings::Key::LastPage, QStringLiteral("live"));
    QVERIFY(settings.saveNow());
    settings.setValue(Settings::Key::LastPage, QStringLiteral("queue"));
    QVERIFY(settings.saveNow());
    // QSaveFile wrote a temporary file and renamed it: only the settings file is left.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("console.json")});
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject o = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(o.value(u"window/lastPage").toString(), QStringLiteral("queue"));
}

void SettingsRegistryTest::renamedKeyIsMigrated()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("console.json"));
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        // An older console's names: "lastPage" and "mainWindow/geometry".
        file.write(R"({"lastPage": "groups", "mainWindow/geometry": "AAEC"})");
    }
    Settings settings(path);
    QVERIFY(settings.load());
    QCOMPARE(settings.value(Settings::Key::LastPage).toString(), QStringLiteral("groups"));
    QCOMPARE(settings.value(Settings::Key::WindowGeometry).toByteArray(),
             QByteArray("\x00\x01\x02", 3));
    QVERIFY(settings.saveNow());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject o = QJsonDocument::fromJson(file.readAll()).object();
    QVERIFY(!o.contains(u"lastPage"));
    QCOMPARE(o.value(u"window/lastPage").toString(), QStringLiteral("groups"));
}

void SettingsRegistryTest::damagedFileFallsBackToDefaultsAndIsKeptAside()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("console.json"));
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"window/lastPage\": \"que");
    }
    Settings settings(path);
    QString error;
    QVERIFY(!settings.load(&error));
    QVERIFY2(error.contains(QLatin1String("using the defaults")), qPrintable(error));
    QCOMPARE(settings.value(Settings::Key::LastPage).toString(), QStringLiteral("dashboard"));
    settings.setValue(Settings::Key::LastPage, QStringLiteral("live"));
    QVERIFY(settings.saveNow());
    QVERIFY(QFile::exists(path + QStringLiteral(".damaged")));
}

void SettingsRegistryTest::tokenVaultFileIsReadableByTheOwnerOnly()
{
    QTemporaryDir dir;
    const QString path = TokenVault::besideSettings(dir.filePath(QStringLiteral("console.json")));
    QCOMPARE(path, dir.filePath(QStringLiteral("tokens.json")));
    TokenVault vault(path);
    vault.setToken(QStringLiteral("p1"), QByteArrayLiteral("secret-token"));
    QString error;
    QVERIFY2(vault.save(&error), qPrintable(error));
    const QFileDevice::Permissions mode = QFile::permissions(path);
    QVERIFY(mode & QFileDevice::ReadOwner);
    QVERIFY(!(mode & (QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup |
                      QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther)));
    TokenVault again(path);
    QVERIFY2(again.load(&error), qPrintable(error));
    QCOMPARE(again.token(QStringLiteral("p1")), QByteArrayLiteral("secret-token"));
}

void SettingsRegistryTest::tokenVaultRefusesAFileOthersMayRead()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("tokens.json"));
    TokenVault vault(path);
    vault.setToken(QStringLiteral("p1"), QByteArrayLiteral("t"));
    QString error;
    QVERIFY(vault.save(&error));
    QVERIFY(QFile::setPermissions(path, QFile::permissions(path) | QFileDevice::ReadOther));
    TokenVault again(path);
    QVERIFY(!again.load(&error));
    QVERIFY2(error.contains(QLatin1String("chmod 600")), qPrintable(error));
}

void SettingsRegistryTest::proxyBookRestoresProxiesWithTheirTokens()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("console.json"));
    QString remoteId;
    {
        Settings settings(path);
        TokenVault vault(TokenVault::besideSettings(path));
        ProxyRegistry registry;
        ProxyBook book(registry, settings, vault);
        ProxyEndpoint remote;
        remote.name = QStringLiteral("mx1");
        remote.url = QUrl(QStringLiteral("wss://127.0.0.1:9"));
        remote.token = QByteArrayLiteral("tok-1");
        remote.pinnedSha256 = QByteArrayLiteral("ab12");
        remoteId = registry.add(remote, false);
        ProxyEndpoint local;
        local.id = QStringLiteral("local");
        local.url = QUrl(QStringLiteral("ws://127.0.0.1:1"));
        local.local = true;
        registry.add(local, false);
        QVERIFY(settings.saveNow());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        // The token is not in the settings, and the bundled engine is not saved.
        const QByteArray saved = file.readAll();
        QVERIFY(!saved.contains("tok-1"));
        const QJsonArray proxies =
            QJsonDocument::fromJson(saved).object().value(u"proxies").toArray();
        QCOMPARE(proxies.size(), 1);
        QCOMPARE(proxies.first().toObject().value(u"name").toString(), QStringLiteral("mx1"));
    }
    Settings settings(path);
    QVERIFY(settings.load());
    TokenVault vault(TokenVault::besideSettings(path));
    QString error;
    QVERIFY(vault.load(&error));
    ProxyRegistry registry;
    ProxyBook book(registry, settings, vault);
    QStringList problems;
    const QStringList ids = book.restore(&problems);
    QCOMPARE(ids, QStringList{remoteId});
    QVERIFY(problems.isEmpty());
    const ProxyEndpoint *e = registry.endpoint(remoteId);
    QVERIFY(e);
    QCOMPARE(e->name, QStringLiteral("mx1"));
    QCOMPARE(e->token, QByteArrayLiteral("tok-1"));
    QCOMPARE(e->pinnedSha256, QByteArrayLiteral("ab12"));
    registry.remove(remoteId);
}

QTEST_GUILESS_MAIN(SettingsRegistryTest)
#include "tst_settings_registry.moc"
