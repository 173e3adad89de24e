// SPDX-License-Identifier: GPL-3.0-or-later
// The Proxies page against a real greygated (DaemonProcess): a proxy added with the token
// the daemon wrote shows connected, with its store and version; disconnect and connect act
// on the selection; a wrong token is refused; removing asks once and forgets it; the proxy
// dialog validates the address, TLS and the token file.

#include "../models/LiveModelsDaemon.h"
#include "dialogs/Confirmation.h"
#include "dialogs/ProxyDialog.h"
#include "models/ProxyListModel.h"
#include "pages/ProxiesPage.h"
#include "settings/ProxyBook.h"
#include "settings/Settings.h"
#include "settings/TokenVault.h"
#include "widgets/DataTable.h"
#include "widgets/Resources.h"

#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>

using namespace greygate;
using namespace greygate::test;

namespace {

QString stateOf(const ProxyListModel *model, const QString &id)
{
    const int row = model->rowOf(id);
    return row < 0 ? QString() : model->index(row, ProxyListModel::State).data().toString();
}

void selectProxy(ProxiesPage &page, const QString &id)
{
    const int row = page.model()->rowOf(id);
    page.table()->clearSelection();
    page.table()->selectRow(
        page.table()->proxy()->mapFromSource(page.model()->index(row, 0)).row());
}

} // namespace

class ProxiesPageTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup() { Confirmation::setTestAnswer(-1); }
    void addedGreygatedShowsConnected();
    void disconnectAndConnectActOnTheSelection();
    void wrongTokenIsShownRefused();
    void removeAsksOnceAndForgetsTheProxy();
    void dialogValidatesAddressTlsAndToken_data();
    void dialogValidatesAddressTlsAndToken();
    void dialogReadsTheTokenFileTheDaemonWrote();
    void tlsProxyIsPinnedOnFirstContactAndAChangedCertificateRefused();

private:
    LiveModelsDaemon m_daemon;
};

void ProxiesPageTest::initTestCase()
{
    initConsoleResources();
    QVERIFY2(m_daemon.start(), qPrintable(m_daemon.error));
}

void ProxiesPageTest::addedGreygatedShowsConnected()
{
    QTemporaryDir dir;
    Settings settings(dir.filePath(QStringLiteral("console.json")));
    TokenVault vault(TokenVault::besideSettings(settings.path()));
    ProxyRegistry registry;
    ProxyBook book(registry, settings, vault);
    ProxiesPage page(registry, settings, &book, nullptr);
    page.show();
    ProxyEndpoint e;
    e.name = QStringLiteral("real greygated");
    e.url = m_daemon.url();
    e.token = m_daemon.token;
    const QString id = page.addProxy(e, {});
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(page.model(), id), QStringLiteral("connected"), 15'000);
    const int row = page.model()->rowOf(id);
    QCOMPARE(page.model()->index(row, ProxyListModel::StoreKind).data().toString(),
             QStringLiteral("sqlite"));
    QVERIFY(!page.model()->index(row, ProxyListModel::EngineVersion).data().toString().isEmpty());
    // Saved for the next run, with its token in the vault rather than the settings.
    QCOMPARE(settings.value(Settings::Key::Proxies).toList().size(), 1);
    QCOMPARE(vault.token(id), m_daemon.token);
    selectProxy(page, id);
    auto *details = page.findChild<QLabel *>(QStringLiteral("details"));
    QVERIFY(details->text().contains(QStringLiteral("real greygated")));
}

void ProxiesPageTest::disconnectAndConnectActOnTheSelection()
{
    QTemporaryDir dir;
    Settings settings(dir.filePath(QStringLiteral("console.json")));
    ProxyRegistry registry;
    ProxiesPage page(registry, settings, nullptr, nullptr);
    page.show();
    ProxyEndpoint e;
    e.name = QStringLiteral("p");
    e.url = m_daemon.url();
    e.token = m_daemon.token;
    const QString id = page.addProxy(e, {});
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(page.model(), id), QStringLiteral("connected"), 15'000);
    selectProxy(page, id);
    auto *disconnectButton = page.findChild<QPushButton *>(QStringLiteral("disconnectProxy"));
    auto *connectButton = page.findChild<QPushButton *>(QStringLiteral("connectProxy"));
    QVERIFY(disconnectButton->isEnabled());
    QVERIFY(!connectButton->isEnabled());
    disconnectButton->click();
    QTRY_COMPARE(registry.connection(id)->state(), ProxyConnection::State::Disconnected);
    QTRY_VERIFY(connectButton->isEnabled());
    connectButton->click();
    QTRY_COMPARE_WITH_TIMEOUT(registry.connection(id)->state(), ProxyConnection::State::Connected,
                              15'000);
}

void ProxiesPageTest::wrongTokenIsShownRefused()
{
    QTemporaryDir dir;
    Settings settings(dir.filePath(QStringLiteral("console.json")));
    ProxyRegistry registry;
    ProxiesPage page(registry, settings, nullptr, nullptr);
    ProxyEndpoint e;
    e.name = QStringLiteral("wrong");
    e.url = m_daemon.url();
    e.token = QByteArrayLiteral("not-the-token");
    const QString id = page.addProxy(e, {});
    QTRY_COMPARE_WITH_TIMEOUT(registry.connection(id)->state(), ProxyConnection::State::Refused,
                              15'000);
    QVERIFY(!registry.connection(id)->lastError().isEmpty());
}

void ProxiesPageTest::removeAsksOnceAndForgetsTheProxy()
{
    QTemporaryDir dir;
    Settings settings(dir.filePath(QStringLiteral("console.json")));
    TokenVault vault(TokenVault::besideSettings(settings.path()));
    ProxyRegistry registry;
    ProxyBook book(registry, settings, vault);
    ProxiesPage page(registry, settings, &book, nullptr);
    page.show();
    QStringList ids;
    for (int i = 0; i < 3; ++i) {
        ProxyEndpoint e;
        e.name = QStringLiteral("p%1").arg(i);
        e.url = QUrl(QStringLiteral("ws://127.0.0.1:9"));
        ids.append(registry.add(e, false));
    }
    page.table()->selectAll();
    Confirmation::setTestAnswer(0); // the admin says no
    page.removeSelected();
    QCOMPARE(registry.count(), 3);
    Confirmation::setTestAnswer(1);
    page.removeSelected();
    QCOMPARE(registry.count(), 0);
    QTRY_COMPARE(settings.value(Settings::Key::Proxies).toList().size(), 0);
    const QString question = Confirmation::text(QStringLiteral("Remove"), QStringLiteral("proxy"),
                                                QStringLiteral("proxies"),
                                                {QStringLiteral("a"), QStringLiteral("b")}, {});
    QVERIFY2(question.startsWith(QLatin1String("Remove these 2 proxies?")), qPrintable(question));
    QVERIFY(question.contains(QStringLiteral("• b")));
}

void ProxiesPageTest::dialogValidatesAddressTlsAndToken_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<bool>("tls");
    QTest::addColumn<QString>("token");
    QTest::addColumn<QString>("says"); // empty: valid
    QTest::newRow("loopback, token")
        << QStringLiteral("127.0.0.1") << false << QStringLiteral("t0k") << QString();
    QTest::newRow("remote with TLS")
        << QStringLiteral("mx1.example.com") << true << QStringLiteral("t0k") << QString();
    QTest::newRow("remote without TLS") << QStringLiteral("mx1.example.com") << false
                                        << QStringLiteral("t0k") << QStringLiteral("TLS");
    QTest::newRow("no host") << QString() << false << QStringLiteral("t0k")
                             << QStringLiteral("address");
    QTest::newRow("no token") << QStringLiteral("::1") << false << QString()
                              << QStringLiteral("token");
    QTest::newRow("bad host") << QStringLiteral("a b/c") << true << QStringLiteral("t0k")
                              << QStringLiteral("not a host");
}

void ProxiesPageTest::dialogValidatesAddressTlsAndToken()
{
    QFETCH(QString, host);
    QFETCH(bool, tls);
    QFETCH(QString, token);
    QFETCH(QString, says);
    ProxyDialog d;
    d.findChild<QLineEdit *>(QStringLiteral("host"))->setText(host);
    d.findChild<QCheckBox *>(QStringLiteral("tls"))->setChecked(tls);
    d.findChild<QLineEdit *>(QStringLiteral("token"))->setText(token);
    const QString error = d.validationError();
    if (says.isEmpty()) {
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(d.endpoint().url.scheme(), tls ? QStringLiteral("wss") : QStringLiteral("ws"));
        QCOMPARE(d.endpoint().token, token.toUtf8());
    } else {
        QVERIFY2(error.contains(says), qPrintable(error));
    }
}

void ProxiesPageTest::dialogReadsTheTokenFileTheDaemonWrote()
{
    ProxyDialog d;
    d.findChild<QLineEdit *>(QStringLiteral("host"))->setText(QStringLiteral("127.0.0.1"));
    d.findChild<QSpinBox *>(QStringLiteral("port"))->setValue(m_daemon.controlPort);
    d.findChild<QRadioButton *>(QStringLiteral("useFile"))->setChecked(true);
    const QString tokenFile = m_daemon.dir.filePath(QStringLiteral("db/control.token"));
    d.findChild<QLineEdit *>(QStringLiteral("tokenFile"))->setText(tokenFile);
    QVERIFY2(d.validationError().isEmpty(), qPrintable(d.validationError()));
    QCOMPARE(d.endpoint().token, m_daemon.token);
    QCOMPARE(d.endpoint().url, m_daemon.url());
    QCOMPARE(d.tokenFile(), tokenFile);
    // A token file others may read is refused, as greygated refuses it.
    QTemporaryDir dir;
    const QString open = dir.filePath(QStringLiteral("open.token"));
    QFile f(open);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("abc\n");
    f.close();
    QVERIFY(QFile::setPermissions(open, QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                            QFileDevice::ReadOther));
    d.findChild<QLineEdit *>(QStringLiteral("tokenFile"))->setText(open);
    QVERIFY2(d.validationError().contains(QLatin1String("chmod 600")),
             qPrintable(d.validationError()));
}

void ProxiesPageTest::tlsProxyIsPinnedOnFirstContactAndAChangedCertificateRefused()
{
    LiveModelsDaemon tls;
    QVERIFY2(tls.start(3600, {QStringLiteral("--control-tls=on")}), qPrintable(tls.error));
    QUrl url = tls.url();
    url.setScheme(QStringLiteral("wss"));
    QTemporaryDir dir;
    Settings settings(dir.filePath(QStringLiteral("console.json")));
    TokenVault vault(TokenVault::besideSettings(settings.path()));
    ProxyRegistry registry;
    ProxyBook book(registry, settings, vault);
    ProxiesPage page(registry, settings, &book, nullptr);
    ProxyEndpoint e;
    e.name = QStringLiteral("tls");
    e.url = url;
    e.token = tls.token;
    const QString id = page.addProxy(e, {});
    // First contact: the certificate is pinned, saved, and the proxy connected with the pin.
    QTRY_VERIFY_WITH_TIMEOUT(!registry.endpoint(id)->pinnedSha256.isEmpty(), 15'000);
    QTRY_COMPARE_WITH_TIMEOUT(registry.connection(id)->state(), ProxyConnection::State::Connected,
                              15'000);
    const QByteArray pin = registry.endpoint(id)->pinnedSha256;
    QCOMPARE(QString::fromLatin1(pin), registry.connection(id)->certificateSha256());
    const QVariantList saved = settings.value(Settings::Key::Proxies).toList();
    QCOMPARE(saved.size(), 1);
    QCOMPARE(saved.first().toMap().value(QStringLiteral("pinnedSha256")).toString(),
             QString::fromLatin1(pin));
    // Another certificate than the pinned one: refused, and said so.
    ProxyEndpoint changed = *registry.endpoint(id);
    changed.pinnedSha256 = QByteArray(64, 'a');
    registry.update(changed);
    registry.connection(id)->open();
    QTRY_COMPARE_WITH_TIMEOUT(registry.connection(id)->state(), ProxyConnection::State::Refused,
                              15'000);
    QVERIFY(registry.connection(id)->certificateMismatch());
    QCOMPARE(registry.endpoint(id)->pinnedSha256, QByteArray(64, 'a')); // never re-pinned
}

QTEST_MAIN(ProxiesPageTest)
#include "tst_proxies_page.moc"
