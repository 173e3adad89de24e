// SPDX-License-Identifier: GPL-3.0-or-later
#include "AboutDialog.h"

#include "client/ProxyRegistry.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QVBoxLayout>

namespace greygate {

AboutDialog::AboutDialog(const ProxyRegistry &registry, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("About Greygate"));
    auto *layout = new QVBoxLayout(this);
    auto *icon = new QLabel(this);
    icon->setPixmap(QIcon(QStringLiteral(":/icons/greygate.png")).pixmap(64, 64));
    layout->addWidget(icon, 0, Qt::AlignHCenter);
    auto *text = new QLabel(versionsHtml(registry), this);
    text->setObjectName(QStringLiteral("versions"));
    text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(text);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

QString AboutDialog::versionsHtml(const ProxyRegistry &registry)
{
    QString html = tr("<h3>Greygate console %1</h3>"
                      "<p>A greylisting mail gateway's console. GPL-3.0-or-later.</p>"
                      "<table><tr><td>Console</td><td>%1</td></tr>"
                      "<tr><td>Qt</td><td>%2 (built with %3)</td></tr>")
                       .arg(QStringLiteral(GREYGATE_VERSION), QString::fromLatin1(qVersion()),
                            QStringLiteral(QT_VERSION_STR));
    for (const QString &id : registry.ids()) {
        const ProxyEndpoint *e = registry.endpoint(id);
        const ProxyConnection *c = registry.connection(id);
        const QString name = (e->name.isEmpty() ? e->url.toString() : e->name).toHtmlEscaped();
        if (c->state() == ProxyConnection::State::Connected)
            html += tr("<tr><td>Engine of %1</td><td>%2 (API %3, store %4)</td></tr>")
                        .arg(name, c->hello().engineVersion.toHtmlEscaped())
                        .arg(c->hello().apiVersion)
                        .arg(c->hello().storeKind.toHtmlEscaped());
        else
            html += tr("<tr><td>Engine of %1</td><td>not connected</td></tr>").arg(name);
    }
    return html + QStringLiteral("</table>");
}

} // namespace greygate
