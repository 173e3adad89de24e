// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProxyDialog.h"

#include "settings/ProxyBook.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHostAddress>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>

namespace greygate {

namespace {

bool isLoopbackName(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress a(host);
    return !a.isNull() && a.isLoopback();
}

} // namespace

ProxyDialog::ProxyDialog(QWidget *parent)
    : QDialog(parent)
    , m_name(new QLineEdit(this))
    , m_host(new QLineEdit(this))
    , m_port(new QSpinBox(this))
    , m_tls(new QCheckBox(tr("Use TLS (wss://); required beyond this computer"), this))
    , m_useToken(new QRadioButton(tr("Token"), this))
    , m_useFile(new QRadioButton(tr("Token file"), this))
    , m_token(new QLineEdit(this))
    , m_tokenFile(new QLineEdit(this))
    , m_pinLabel(new QLabel(this))
    , m_error(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Proxy"));
    m_name->setObjectName(QStringLiteral("name"));
    m_name->setPlaceholderText(tr("mx1"));
    m_host->setObjectName(QStringLiteral("host"));
    m_host->setPlaceholderText(tr("127.0.0.1 or mx1.example.com"));
    m_port->setObjectName(QStringLiteral("port"));
    m_port->setRange(1, 65535);
    m_port->setValue(10024);
    m_tls->setObjectName(QStringLiteral("tls"));
    m_token->setObjectName(QStringLiteral("token"));
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("the content of DBDIR/control.token on the proxy"));
    m_tokenFile->setObjectName(QStringLiteral("tokenFile"));
    m_tokenFile->setPlaceholderText(tr("/var/lib/greygate/control.token"));
    m_useToken->setObjectName(QStringLiteral("useToken"));
    m_useFile->setObjectName(QStringLiteral("useFile"));
    m_useToken->setChecked(true);
    m_pinLabel->setObjectName(QStringLiteral("pin"));
    m_pinLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_pinLabel->setWordWrap(true);
    m_error->setObjectName(QStringLiteral("error"));
    m_error->setStyleSheet(QStringLiteral("color: #b00020"));
    m_error->setWordWrap(true);

    auto *browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Token file"));
        if (!path.isEmpty()) {
            m_tokenFile->setText(path);
            m_useFile->setChecked(true);
        }
    });
    auto *forget = new QPushButton(tr("Forget pin"), this);
    forget->setObjectName(QStringLiteral("forgetPin"));
    forget->setToolTip(tr("The next connection pins the certificate the proxy shows then: do "
                          "this only when you know why it changed"));
    connect(forget, &QPushButton::clicked, this, [this] {
        m_pin.clear();
        m_pinLabel->setText(tr("none: pinned on first contact"));
    });

    auto *form = new QFormLayout;
    form->addRow(tr("Name"), m_name);
    auto *address = new QHBoxLayout;
    address->addWidget(m_host, 1);
    address->addWidget(new QLabel(tr("port"), this));
    address->addWidget(m_port);
    form->addRow(tr("Address"), address);
    form->addRow(QString(), m_tls);
    auto *token = new QHBoxLayout;
    token->addWidget(m_useToken);
    token->addWidget(m_token, 1);
    form->addRow(tr("Admin token"), token);
    auto *file = new QHBoxLayout;
    file->addWidget(m_useFile);
    file->addWidget(m_tokenFile, 1);
    file->addWidget(browse);
    form->addRow(QString(), file);
    auto *pin = new QHBoxLayout;
    pin->addWidget(m_pinLabel, 1);
    pin->addWidget(forget);
    form->addRow(tr("Certificate pin (SHA-256)"), pin);
    m_pinLabel->setText(tr("none: pinned on first contact"));

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    for (QLineEdit *edit : {m_name, m_host, m_token, m_tokenFile})
        connect(edit, &QLineEdit::textChanged, this, &ProxyDialog::validate);
    connect(m_port, &QSpinBox::valueChanged, this, &ProxyDialog::validate);
    connect(m_tls, &QCheckBox::toggled, this, &ProxyDialog::validate);
    connect(m_useToken, &QRadioButton::toggled, this, &ProxyDialog::validate);
    resize(560, sizeHint().height());
    validate();
}

void ProxyDialog::setEndpoint(const ProxyEndpoint &endpoint, const QString &tokenFile)
{
    m_id = endpoint.id;
    m_name->setText(endpoint.name);
    m_host->setText(endpoint.url.host());
    m_port->setValue(endpoint.url.port(10024));
    m_tls->setChecked(endpoint.url.scheme() == QLatin1String("wss"));
    m_pin = endpoint.pinnedSha256;
    m_pinLabel->setText(m_pin.isEmpty() ? tr("none: pinned on first contact")
                                        : QString::fromLatin1(m_pin));
    if (tokenFile.isEmpty()) {
        m_useToken->setChecked(true);
        m_token->setText(QString::fromUtf8(endpoint.token));
    } else {
        m_useFile->setChecked(true);
        m_tokenFile->setText(tokenFile);
    }
    validate();
}

ProxyEndpoint ProxyDialog::endpoint() const
{
    ProxyEndpoint e;
    e.id = m_id;
    e.name = m_name->text().trimmed();
    QUrl url;
    url.setScheme(m_tls->isChecked() ? QStringLiteral("wss") : QStringLiteral("ws"));
    url.setHost(m_host->text().trimmed());
    url.setPort(m_port->value());
    e.url = url;
    e.pinnedSha256 = m_pin;
    if (m_useFile->isChecked()) {
        QString error;
        e.token =
            ProxyBook::readTokenFile(m_tokenFile->text().trimmed(), &error).value_or(QByteArray());
    } else {
        e.token = m_token->text().trimmed().toUtf8();
    }
    if (e.name.isEmpty())
        e.name = url.host();
    return e;
}

QString ProxyDialog::tokenFile() const
{
    return m_useFile->isChecked() ? m_tokenFile->text().trimmed() : QString();
}

QString ProxyDialog::validationError() const
{
    const QString host = m_host->text().trimmed();
    if (host.isEmpty())
        return tr("Enter the proxy's address: the host of its --control-listen.");
    QUrl probe;
    probe.setHost(host, QUrl::StrictMode);
    if (!probe.isValid() || host.contains(u' ') || host.contains(u'/'))
        return tr("\"%1\" is not a host name or an IP address.").arg(host);
    if (!m_tls->isChecked() && !isLoopbackName(host))
        return tr("A proxy on another machine is reached only over TLS: tick \"Use TLS\" "
                  "(greygated refuses the control API off loopback without it).");
    if (m_useToken->isChecked()) {
        const QString token = m_token->text().trimmed();
        if (token.isEmpty())
            return tr("Enter the admin token (DBDIR/control.token on the proxy), or choose "
                      "the token file.");
        if (token.size() > 1024 || token.contains(u' '))
            return tr("That is not a token: a token is one word of at most 1,024 characters.");
    } else {
        const QString path = m_tokenFile->text().trimmed();
        if (path.isEmpty())
            return tr("Choose the token file, or enter the token.");
        QString error;
        if (!ProxyBook::readTokenFile(path, &error))
            return error;
    }
    return {};
}

void ProxyDialog::validate()
{
    m_token->setEnabled(m_useToken->isChecked());
    m_tokenFile->setEnabled(m_useFile->isChecked());
    const QString error = validationError();
    m_error->setText(error);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(error.isEmpty());
}

} // namespace greygate
